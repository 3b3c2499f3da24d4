/**
 * permessage-deflate on /ws, on against off: C clients follow one stream while a burst of L audit lines is
 * appended; reports the bytes the clients read off their sockets, the server's CPU time (its own process, so
 * the clients' inflating is not counted) and its RSS, per mode, median of R rounds. JSON on stdout.
 * Needs dist/ (npm run build). Usage: node bench/ws-deflate.js [clients] [lines] [rounds]
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { WebSocket } from "ws";

if (process.argv[2] === "--server") {
  // The child: one server, answering "cpu" on stdin with its CPU time so far and its RSS.
  const { createServer } = await import("../dist/server/app.js");
  const server = createServer({
    streams: [{ name: "audit", file: process.argv[4] }],
    port: 0,
    staticDir: null,
    wsPerMessageDeflate: process.argv[3] === "on",
  });
  const { url } = await server.listen();
  process.stdout.write(`${url}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === "cpu") {
      const { user, system } = process.cpuUsage();
      process.stdout.write(
        `${JSON.stringify({ cpuMs: (user + system) / 1000, rssMb: process.memoryUsage().rss / 2 ** 20 })}\n`,
      );
    }
  }
  await server.close();
  process.exit(0);
}

const CLIENTS = Number(process.argv[2] ?? 20);
const LINES = Number(process.argv[3] ?? 20_000);
const ROUNDS = Number(process.argv[4] ?? 3);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function round(mode) {
  const dir = mkdtempSync(join(tmpdir(), "lt-ws-deflate-"));
  const file = join(dir, "audit.log");
  writeFileSync(file, "");
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, "--server", mode, file], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const out = createInterface({ input: child.stdout });
  const next = () => new Promise((resolve) => out.once("line", resolve));
  const url = String(await next()).replace(/^http/, "ws");
  const clients = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`${url}/ws`, { perMessageDeflate: mode === "on" });
          const c = { ws, lines: 0, done: null };
          ws.on("message", (data) => {
            const text = data.toString();
            if (text.includes('"subscribed"')) resolve(c);
            c.lines += text.match(/burst-\d+/g)?.length ?? 0;
            if (c.lines >= LINES) c.done?.();
          });
          ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 0 })));
          ws.on("error", reject);
        }),
    ),
  );
  const bytesBefore = clients.reduce((n, c) => n + c.ws._socket.bytesRead, 0);
  child.stdin.write("cpu\n");
  const before = JSON.parse(String(await next()));
  const all = Promise.all(clients.map((c) => new Promise((resolve) => (c.done = resolve))));
  const started = performance.now();
  const lines = [];
  for (let i = 0; i < LINES; i++) {
    lines.push(
      `[2025-12-17T17:40:37Z] INFO: auth: user u${i % 977} logged in from 10.0.${i % 256}.${i % 199} burst-${i}\n`,
    );
  }
  appendFileSync(file, lines.join(""));
  await all;
  const ms = performance.now() - started;
  child.stdin.write("cpu\n");
  const after = JSON.parse(String(await next()));
  const bytes = clients.reduce((n, c) => n + c.ws._socket.bytesRead, 0) - bytesBefore;
  for (const c of clients) c.ws.close();
  child.stdin.end();
  await new Promise((resolve) => child.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
  return { bytes, serverCpuMs: after.cpuMs - before.cpuMs, deliverMs: ms, serverRssMb: after.rssMb };
}

const results = {};
for (const mode of ["off", "on"]) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(mode));
  results[mode] = Object.fromEntries(
    Object.keys(rounds[0]).map((k) => [k, Math.round(median(rounds.map((x) => x[k])) * 10) / 10]),
  );
}
console.log(JSON.stringify({ clients: CLIENTS, lines: LINES, rounds: ROUNDS, ...results }, null, 2));
