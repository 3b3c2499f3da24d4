import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { useTempDirs } from "../helpers/temp-dir.js";
import { startServer } from "../server/harness.js";

/**
 * deploy/Dockerfile checked for the rules docs/deploy.md says it follows (hadolint's, which Debian does not
 * package; no Docker engine here either, so the image itself is never built by the tests). The HEALTHCHECK
 * command is run for real against a server.
 */

vi.setConfig({ testTimeout: 60_000 });
const tempDir = useTempDirs();

const ROOT = new URL("../../", import.meta.url);
const text = await readFile(new URL("deploy/Dockerfile", ROOT), "utf8");

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** One entry per instruction: continuation lines joined, comments and blank lines dropped. */
function parse(source: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = "";
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    pending += pending === "" ? line : ` ${line}`;
    if (pending.endsWith("\\")) {
      pending = pending.slice(0, -1).trimEnd();
      continue;
    }
    const [keyword = "", ...rest] = pending.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === "FROM") stage++;
    out.push({ keyword: upper, args: rest.join(" "), stage });
    pending = "";
  }
  return out;
}

const instructions = parse(text);
const args = new Map(
  instructions
    .filter((i) => i.keyword === "ARG" && i.stage === -1)
    .map((i) => {
      const [name = "", value = ""] = i.args.split("=");
      return [name, value] as const;
    }),
);
const froms = instructions.filter((i) => i.keyword === "FROM");
const last = froms.length - 1;
const final = instructions.filter((i) => i.stage === last);
const all = (keyword: string, list = instructions) => list.filter((i) => i.keyword === keyword);
const json = (i: Instruction | undefined) => JSON.parse(i?.args ?? "null") as string[];

describe("deploy/Dockerfile", () => {
  it("is multi-stage from a pinned base image: a version tag, never latest (DL3006, DL3007)", () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      const image = (from.args.split(/\s+/)[0] ?? "").replace(
        /^\$\{(\w+)\}$/,
        (_, name) => args.get(name) ?? "",
      );
      expect(image, from.args).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+(-slim)?(@sha256:[0-9a-f]{64})?$/);
      expect(image).not.toMatch(/:latest\b/);
    }
  });

  it("builds with npm ci and npm pack; the runtime stage installs only the tarball, without dev dependencies", () => {
    const buildRuns = instructions.filter((i) => i.stage < last && i.keyword === "RUN").map((i) => i.args);
    expect(buildRuns.join("\n")).toMatch(/\bnpm ci\b/);
    expect(buildRuns.join("\n")).toMatch(/\bnpm run build\b/);
    expect(buildRuns.join("\n")).toMatch(/\bnpm pack\b/);
    const runtimeRuns = all("RUN", final).map((i) => i.args);
    expect(runtimeRuns.join("\n")).toMatch(/npm install --global --omit=dev [^\n]*\S+\.tgz/);
    expect(runtimeRuns.join("\n")).not.toMatch(/\bnpm (ci|run)\b/);
    // The runtime stage copies from the build stage only (no sources from the context).
    for (const copy of all("COPY", final)) expect(copy.args).toMatch(/^--from=build\s/);
  });

  it("never uses ADD (DL3020), curl or wget, sudo (DL3004), cd (DL3003), pipes without pipefail (DL4006)", () => {
    expect(all("ADD")).toEqual([]);
    expect(all("MAINTAINER")).toEqual([]);
    for (const run of all("RUN")) {
      expect(run.args).not.toMatch(/\b(curl|wget|sudo)\b/);
      expect(run.args).not.toMatch(/(^|&&|;)\s*cd\s/);
      expect(run.args).not.toMatch(/[^|]\|[^|]/);
    }
    for (const workdir of all("WORKDIR")) expect(workdir.args).toMatch(/^\//);
  });

  it("runs as a non-root user (DL3002), with the state directory as a volume and exec-form commands (DL3025)", () => {
    const user = all("USER", final).at(-1)?.args ?? "root";
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(user).toMatch(/^\d+:\d+$/);
    const volumes = all("VOLUME", final).flatMap(json);
    const cmd = json(all("CMD", final).at(-1));
    const stateDir = cmd[cmd.indexOf("--state-dir") + 1];
    expect(stateDir).toBeDefined();
    expect(volumes).toContain(stateDir);
    expect(json(all("ENTRYPOINT", final).at(-1))).toEqual(["livetrail"]);
    expect(cmd.slice(0, 1)).toEqual(["serve"]);
    // Listens on all interfaces of the container, on the port it exposes.
    expect(cmd[cmd.indexOf("--host") + 1]).toBe("0.0.0.0");
    expect(all("EXPOSE", final).map((i) => i.args)).toEqual([cmd[cmd.indexOf("--port") + 1]]);
    // The log is read from a mounted directory (the directory, not the file, is the mount).
    expect(cmd.at(-1)).toMatch(/^audit=\/logs\/[^/]+$/);
  });

  it("has a HEALTHCHECK in exec form that runs node against /healthz, and it tells a live server from none", async () => {
    const [healthcheck] = all("HEALTHCHECK", final);
    expect(healthcheck).toBeDefined();
    const command = JSON.parse(healthcheck?.args.replace(/^(--\S+\s+)*CMD\s+/, "") ?? "null") as string[];
    expect(command.slice(0, 2)).toEqual(["node", "-e"]);
    const script = command[2] ?? "";
    expect(script).toContain("/healthz");
    expect(script).toContain("port:8080");

    const probe = (port: number) =>
      promisify(execFile)(process.execPath, ["-e", script.replace("port:8080", `port:${port}`)]).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    const log = (await tempDir()).file("audit.log");
    await writeFile(log, "");
    const server = await startServer([{ name: "audit", file: log }]);
    const port = Number(new URL(server.url).port);
    try {
      expect(await probe(port)).toBe(0);
    } finally {
      await server.close();
    }
    expect(await probe(port)).toBe(1);
  });

  it("has a .dockerignore that keeps node_modules, dist and .git out of the build context", async () => {
    const ignored = (await readFile(new URL(".dockerignore", ROOT), "utf8"))
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    expect(ignored).toEqual(expect.arrayContaining(["node_modules", "dist", ".git"]));
  });
});

describe("deploy/docker-compose.yml", async () => {
  const compose = await readFile(new URL("deploy/docker-compose.yml", ROOT), "utf8");

  it("mounts the log's directory read-only, not the file (rotation stays visible), and the state as a volume", () => {
    const mounts = [...compose.matchAll(/^\s*-\s+([^\s#:]+):([^\s:]+)(?::(ro))?\s*$/gm)].map((m) => ({
      source: m[1] ?? "",
      target: m[2] ?? "",
      ro: m[3] === "ro",
    }));
    const logs = mounts.find((m) => m.target === "/logs");
    expect(logs).toMatchObject({ ro: true });
    expect(logs?.source).not.toMatch(/\.log$/);
    expect(compose).toMatch(/"audit=\/logs\/[^/"]+"/);
    expect(mounts.find((m) => m.target === "/var/lib/livetrail")?.source).toBe("livetrail-state");
  });

  it("runs read-only with no capabilities, and offers the Docker socket read-only only as a comment", () => {
    expect(compose).toMatch(/^\s*read_only: true$/m);
    expect(compose).toMatch(/^\s*cap_drop: \[ALL\]$/m);
    expect(compose).toMatch(/^\s*#\s*-\s*\/var\/run\/docker\.sock:\/var\/run\/docker\.sock:ro$/m);
  });
});
