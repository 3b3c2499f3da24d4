import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { ServerOptions } from "../server/options.js";

/**
 * Where `--tls-self-signed` keeps its certificate so browsers accept it again after a restart: the server's
 * state directory when one is given (--state-dir or "stateDir"), else $XDG_STATE_HOME/livetrail, else
 * ~/.local/state/livetrail (the XDG base directory default).
 */
export function tlsStateDir(stateDir: string | undefined, env: NodeJS.ProcessEnv): string {
  if (stateDir !== undefined) return stateDir;
  const xdg = env.XDG_STATE_HOME;
  // The spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  if (xdg?.startsWith("/")) return join(xdg, "livetrail");
  return join(homedir(), ".local", "state", "livetrail");
}

/** Points a self-signed TLS setting at its state directory (a given certificate is left alone). */
export function keepSelfSigned(options: ServerOptions, env: NodeJS.ProcessEnv = process.env): void {
  const tls = options.security?.tls;
  if (tls === undefined || !("selfSigned" in tls)) return;
  tls.dir = resolve(tlsStateDir(options.stateDir, env));
}
