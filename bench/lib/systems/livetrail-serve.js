/**
 * Stand-in for `livetrail serve` while the CLI command is not built yet: the same library call the CLI makes
 * (createServer from dist/), one stream named after the file. Usage: livetrail-serve.js FILE PORT [--poll]
 * (--poll turns file watching off so only the stat poll finds new data).
 */
import { basename, resolve } from "node:path";

const [file, port, flag] = process.argv.slice(2);
const { createServer } = await import(resolve(import.meta.dirname, "../../../dist/server/app.js"));
const server = createServer({
  streams: [{ name: basename(String(file)), file: String(file) }],
  host: "127.0.0.1",
  port: Number(port),
  watch: flag !== "--poll",
});
await server.listen();
const stop = () => server.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
