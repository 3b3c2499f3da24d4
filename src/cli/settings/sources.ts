import type { CommandStart } from "../../backend/command/command-backend.js";
import { envNameProblem } from "../../backend/command/command-env.js";
import { bool, choice, group, int, list, path, SettingProblem, setting, text } from "./setting.js";

const envVariable = (name: string): string => {
  const problem = envNameProblem(name);
  if (problem !== null) throw new SettingProblem(problem);
  return name;
};

const dockerSocket = (host: string): string | null =>
  host === "none" || (host.startsWith("unix://") && host.length > "unix://".length)
    ? null
    : `needs unix:///path/to/docker.sock (or "none"), got "${host}"`;

/**
 * docs/sources.md: streams that are not one file: commands (NAME=cmd:ARGV, NAME=sh:STRING), globs and directories
 * (NAME='DIR/*.log', NAME=DIR/), and Docker's containers (--docker).
 */
export const sources = group("Command, glob and container streams (docs/sources.md):", {
  cmdStart: setting<CommandStart>({
    kind: choice(["boot", "demand"]),
    default: "boot",
    flag: "--cmd-start",
    help: 'start each command at server start ("boot") or on its first subscriber ("demand")',
  }),
  cmdLines: setting({
    kind: int(),
    default: 100_000,
    flag: "--cmd-lines",
    help: "lines of a command stream kept in memory",
  }),
  cmdBytes: setting({
    kind: int(),
    default: 16 * 1024 * 1024,
    flag: "--cmd-bytes",
    help: "bytes of a command stream kept in memory",
  }),
  cmdEnv: setting({
    kind: list({
      arg: "<names>",
      describe: "environment variable names",
      item: envVariable,
      samples: ["TZ,LC_ALL", "TERM", "USER,LOGNAME,SHELL"],
    }),
    default: [],
    flag: "--cmd-env",
    help: "environment variables passed to commands besides PATH, HOME, LANG (comma-separated, repeatable)",
    doc: "Environment variables passed to commands besides PATH, HOME and LANG (the server's own environment, which may hold tokens, is never passed whole).",
  }),
  cmdRestartMinMs: setting({
    kind: int({ min: 10, unit: "ms" }),
    default: 1000,
    flag: "--cmd-restart-min-ms",
    help: "wait before restarting a command that exited (doubles while it keeps exiting)",
  }),
  cmdRestartMaxMs: setting({
    kind: int({ min: 10, unit: "ms" }),
    default: 60_000,
    flag: "--cmd-restart-max-ms",
    help: "longest wait between restarts (not below cmdRestartMinMs)",
  }),
  cmdHealthyMs: setting({
    kind: int({ min: 0, unit: "ms" }),
    default: 30_000,
    flag: "--cmd-healthy-ms",
    help: "a run this long resets the restart wait",
  }),
  cmdStopGraceMs: setting({
    kind: int({ min: 0, unit: "ms" }),
    default: 2000,
    flag: "--cmd-stop-grace-ms",
    help: "on shutdown, time between SIGTERM and SIGKILL",
  }),
  globRescanMs: setting({
    kind: int({ min: 100, max: 999_999_999, unit: "ms" }),
    default: 5000,
    flag: "--glob-rescan-ms",
    help: "look at each glob's directory this often, besides change events",
  }),
  docker: setting({
    kind: bool,
    default: false,
    flag: "--docker",
    help: "serve a stream per Docker container, from its json-file log (as containers appear)",
  }),
  dockerRoot: setting({
    kind: path({ arg: "<dir>", describe: "a directory" }),
    default: "/var/lib/docker",
    flag: "--docker-root",
    help: "Docker's root directory (holds containers/<id>/)",
  }),
  dockerHost: setting({
    kind: text({
      arg: "<unix://path>",
      describe: 'unix:///path/to/docker.sock or "none"',
      problem: dockerSocket,
      samples: ["unix:///tmp/lt-docker-1.sock", "none", "unix:///tmp/lt-docker-3.sock"],
    }),
    default: "unix:///var/run/docker.sock",
    flag: "--docker-host",
    help: 'the Engine API socket, for container states and events ("none": read the files only)',
  }),
});
