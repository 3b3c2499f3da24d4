import { execFile } from "node:child_process";
import { cp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "rolldown";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { finished, killStrays, start } from "../cli/run-cli.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { TestClient } from "../server/harness.js";

/**
 * The npm package as a user gets it: `npm pack`, `npm install --omit=dev` of the tarball into an empty prefix,
 * then the installed `livetrail` binary. The tarball is packed from a staging copy whose dist/bin is a fresh
 * bundle (the checkout's dist/bin keeps older hashed chunks next to new ones while tests run), with the same
 * rolldown config, package.json, README and LICENSE, and the checkout's dist/web (`npm run build` makes it).
 */

vi.setConfig({ testTimeout: 120_000, hookTimeout: 300_000 });
killStrays();

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// re2js (the linear-time regex filter, in the page and in its filter worker: two bundles, each with .gz and .br
// copies) is ~0.55 MB of it; 1.5 MB before.
const MAX_UNPACKED_BYTES = 2_000_000;
const exec = promisify(execFile);

interface PackReport {
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

let dir: TempDir;
let pack: PackReport;
let installLog: string;
let bin: string;
let prefix: string;

beforeAll(async () => {
  dir = await makeTempDir("livetrail-pack-");
  const stage = dir.file("stage");
  const web = join(ROOT, "dist/web/index.html");
  await stat(web).catch(() => {
    throw new Error(`${web} is missing: run \`npm run build\` first (the package ships the dashboard)`);
  });
  for (const name of ["package.json", "README.md", "LICENSE"]) await cp(join(ROOT, name), join(stage, name));
  await cp(join(ROOT, "dist/web"), join(stage, "dist/web"), { recursive: true });
  const { default: config } = await import(pathToFileURL(join(ROOT, "rolldown.config.mjs")).href);
  await build({
    ...config,
    cwd: ROOT,
    logLevel: "warn",
    output: { ...config.output, dir: join(stage, "dist/bin") },
  });

  const packed = await exec(
    "npm",
    ["pack", "--json", "--ignore-scripts", "--pack-destination", dir.path, stage],
    {
      cwd: dir.path,
    },
  );
  const [report] = JSON.parse(packed.stdout) as (PackReport & { filename: string })[];
  if (report === undefined) throw new Error(`npm pack printed no report: ${packed.stdout}`);
  pack = report;
  // --engine-strict: the install fails if any package it fetches excludes the Node running this test.
  prefix = dir.file("prefix");
  const installed = await exec(
    "npm",
    [
      "install",
      "--omit=dev",
      "--prefer-offline",
      "--engine-strict",
      "--no-audit",
      "--no-fund",
      "--prefix",
      prefix,
      join(dir.path, report.filename),
    ],
    { cwd: dir.path, maxBuffer: 16 * 1024 * 1024 },
  );
  installLog = installed.stdout + installed.stderr;
  bin = join(prefix, "node_modules/.bin/livetrail");
});

afterAll(async () => {
  await dir?.remove();
});

describe("the npm package", () => {
  it("holds the bundle, the library types, the dashboard, README and LICENSE, no source maps, < 1.5 MB", () => {
    const paths = pack.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
    expect(paths).toEqual(
      expect.arrayContaining(["dist/bin/main.js", "dist/bin/index.js", "dist/web/index.html"]),
    );
    expect(paths).toContain("dist/bin/types/index.d.ts");
    const outside = paths.filter(
      (p) => !["LICENSE", "README.md", "package.json"].includes(p) && !/^dist\/(bin|web)\//.test(p),
    );
    expect(outside).toEqual([]);
    expect(paths.filter((p) => p.endsWith(".map"))).toEqual([]);
    expect(pack.unpackedSize).toBeLessThan(MAX_UNPACKED_BYTES);
  });

  it("installs with --omit=dev and --engine-strict, without an engine warning", () => {
    expect(installLog).not.toMatch(/EBADENGINE|Unsupported engine/);
  });

  it("fetches only packages whose engines include every Node version package.json claims", async () => {
    const claimed = (
      JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }
    ).engines.node;
    // The install's own semver (fastify depends on it): the versions `engines` claims, then each package's range.
    const semver = createRequire(join(prefix, "node_modules/"))("semver") as {
      satisfies(version: string, range: string): boolean;
    };
    const versions = ["20.19.0", "22.12.0", "24.0.0", "26.0.0"];
    for (const version of versions) expect(semver.satisfies(version, claimed), version).toBe(true);
    const excluding: string[] = [];
    const manifests = (await readdir(join(prefix, "node_modules"), { recursive: true })).filter((p) =>
      /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$|^(@[^/]+\/)?[^/@]+\/package\.json$/.test(p),
    );
    expect(manifests.length).toBeGreaterThan(10);
    for (const manifest of manifests) {
      const { name, version, engines } = JSON.parse(
        await readFile(join(prefix, "node_modules", manifest), "utf8"),
      );
      const range = (engines as { node?: string } | undefined)?.node;
      if (range === undefined) continue;
      for (const node of versions)
        if (!semver.satisfies(node, range)) excluding.push(`${name}@${version} (${range}) excludes ${node}`);
    }
    expect(excluding).toEqual([]);
  });

  it("runs `livetrail --help` from the install", async () => {
    const result = await finished(start(bin, ["--help"]));
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^Usage: livetrail /);
    for (const command of ["serve", "log", "tail"]) expect(result.stdout).toContain(command);
  });

  it("serves the dashboard and a live line over a WebSocket, appended with the installed `livetrail log`", async () => {
    const logs = await makeTempDir("livetrail-pack-log-");
    try {
      const log = logs.file("audit.log");
      await writeFile(log, "[2025-12-17T17:40:37Z] before the install test\n");
      const server = start(bin, ["serve", "--host", "127.0.0.1", "--port", "0", `audit=${log}`]);
      const exited = finished(server, 110_000);
      let out = "";
      server.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      try {
        const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
          timeoutMs: 60_000,
          message: "url",
        });
        const page = await fetch(`${url}/`);
        expect(page.status).toBe(200);
        expect(page.headers.get("content-type")).toMatch(/^text\/html/);
        const html = await page.text();
        const script = /src="\.\/(assets\/index-[^"]+\.js)"/.exec(html)?.[1];
        expect(script, "the page's script").toBeDefined();
        expect((await fetch(`${url}/${script}`)).status).toBe(200);

        const client = await TestClient.connect(`${url.replace(/^http/, "ws")}/ws`);
        try {
          await client.subscribe("audit", { tail: 1 });
          expect(client.texts("audit")).toEqual(["[2025-12-17T17:40:37Z] before the install test"]);
          const logged = await finished(
            start(bin, ["log", "--file", log, "written by the installed package"]),
          );
          expect(logged).toMatchObject({ code: 0 });
          await client.waitFor(
            (m) =>
              m.type === "lines" &&
              m.lines.some((l) => l.text.endsWith("] written by the installed package")),
            { timeoutMs: 30_000, message: "the logged line, live" },
          );
          expect(await readFile(log, "utf8")).toMatch(/\] written by the installed package\n$/);
        } finally {
          await client.close();
        }
      } finally {
        server.kill("SIGTERM");
        await exited;
      }
    } finally {
      await logs.remove();
    }
  });
});
