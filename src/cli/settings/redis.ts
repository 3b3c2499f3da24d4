import { redisLabel } from "../../backend/redis/redis-label.js";
import { bool, group, optional, setting, text } from "./setting.js";

const redisUrl = (url: string): string | null => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `needs a URL like redis://host:6379, got "${redisLabel(url)}"`;
  }
  return parsed.protocol === "redis:" || parsed.protocol === "rediss:"
    ? null
    : `needs a redis:// or rediss:// URL, got "${redisLabel(url)}"`;
};

/** docs/scale-out.md: serve the streams of a Redis (single, Cluster or Sentinel) instead of files. */
export const redis = group("Redis (docs/scale-out.md):", {
  redis: optional<string>({
    kind: text({
      arg: "<url>",
      describe: "a redis:// or rediss:// URL",
      problem: redisUrl,
      samples: ["redis://127.0.0.1:6380", "redis://127.0.0.1:6381/1", "rediss://u:p@127.0.0.1:6382"],
    }),
    flag: "--redis",
    secret: true,
    mask: redisLabel,
    help: "serve the streams of this Redis (redis://[user:pass@]host:port[/db]) instead of files",
    doc: "Serve the streams of this Redis (`redis://[user:pass@]host:port[/db]`) instead of files. A password in it is masked in `config print`.",
  }),
  cluster: setting({
    kind: bool,
    default: false,
    flag: "--cluster",
    help: "the --redis address is one node of a Redis Cluster",
  }),
  sentinel: optional<string>({
    kind: text({ arg: "<name>", describe: "a primary's name", samples: ["p1", "p2", "p3"] }),
    flag: "--sentinel",
    help: "the --redis address is a Sentinel: serve the primary it names NAME",
  }),
});
