import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * A container's directory as the Docker daemon lays it out under its root (`/var/lib/docker`):
 * `containers/<64-hex id>/` with config.v2.json (Name, State), hostconfig.json (LogConfig) and, for the json-file
 * log driver, `<id>-json.log`. Only the fields livetrail reads are written, in the daemon's spelling.
 */
export async function makeContainer(
  root: string,
  options: { name: string; log?: string; driver?: string; running?: boolean; id?: string },
): Promise<{ id: string; dir: string; logPath: string }> {
  const id = options.id ?? randomBytes(32).toString("hex");
  const dir = join(root, "containers", id);
  await mkdir(dir, { recursive: true });
  const running = options.running ?? true;
  await writeFile(
    join(dir, "config.v2.json"),
    JSON.stringify({
      ID: id,
      Name: `/${options.name}`,
      State: {
        Running: running,
        Paused: false,
        Restarting: false,
        StartedAt: "2026-12-04T12:00:00.000000000Z",
        FinishedAt: running ? "0001-01-01T00:00:00Z" : "2026-12-04T12:30:00.000000000Z",
      },
      LogPath: `/var/lib/docker/containers/${id}/${id}-json.log`,
    }),
  );
  await writeFile(
    join(dir, "hostconfig.json"),
    JSON.stringify({ LogConfig: { Type: options.driver ?? "json-file", Config: {} } }),
  );
  const logPath = join(dir, `${id}-json.log`);
  if (options.log !== undefined) await writeFile(logPath, options.log);
  return { id, dir, logPath };
}
