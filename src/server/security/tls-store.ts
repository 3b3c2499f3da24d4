import { createPrivateKey, X509Certificate } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, stat } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import type { TlsPair } from "./tls-material.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** A kept certificate with less than this left is replaced, so a browser's exception never lapses mid-use. */
export const RENEW_BEFORE_MS = 30 * DAY_MS;
/** How long a generated certificate is valid: well under the 825 days macOS accepts for TLS servers. */
export const SELF_SIGNED_VALIDITY_MS = 365 * DAY_MS;

export interface KeptPair {
  pair: TlsPair;
  /** True when the pair on disk was reused, false when it was (re)generated and written. */
  reused: boolean;
  certFile: string;
  keyFile: string;
}

/**
 * The self-signed pair kept in DIR/tls/ (directory 0700, files 0600): reused while it is valid for more than
 * RENEW_BEFORE_MS, its key matches and it names every host in `names`; otherwise `make()` generates a new one,
 * written atomically (temporary file, then rename) so a crash never leaves half a key.
 */
export async function keptSelfSigned(
  dir: string,
  names: readonly string[],
  make: (notAfter: Date) => Promise<TlsPair>,
  now: () => number = Date.now,
): Promise<KeptPair> {
  const tlsDir = join(dir, "tls");
  const certFile = join(tlsDir, "self-signed-cert.pem");
  const keyFile = join(tlsDir, "self-signed-key.pem");
  const kept = await readKept(certFile, keyFile);
  if (kept !== null && reusable(kept, names, now())) {
    // A key file someone loosened is tightened again rather than served from a readable file.
    if (((await stat(keyFile)).mode & 0o077) !== 0) await chmod(keyFile, 0o600);
    return { pair: kept, reused: true, certFile, keyFile };
  }
  const pair = await make(new Date(now() + SELF_SIGNED_VALIDITY_MS));
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  await writePrivate(keyFile, pair.key);
  await writePrivate(certFile, pair.cert);
  return { pair, reused: false, certFile, keyFile };
}

/** The kept pair, null when either file is not there yet; a pair that is there but unreadable is an error. */
async function readKept(certFile: string, keyFile: string): Promise<TlsPair | null> {
  const present = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );
  if (!(await present(certFile)) || !(await present(keyFile))) return null;
  try {
    return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
  } catch (error) {
    throw new Error(`cannot read the kept TLS certificate in ${certFile}: ${(error as Error).message}`);
  }
}

/** Valid now and for RENEW_BEFORE_MS more, key matching, every wanted name covered; unparsable means no. */
function reusable(pair: TlsPair, names: readonly string[], at: number): boolean {
  try {
    const cert = new X509Certificate(pair.cert);
    if (Date.parse(cert.validFrom) > at || Date.parse(cert.validTo) - at < RENEW_BEFORE_MS) return false;
    if (!cert.checkPrivateKey(createPrivateKey(pair.key))) return false;
    return names.every((n) => (isIP(n) ? cert.checkIP(n) : cert.checkHost(n)) !== undefined);
  } catch {
    return false;
  }
}

async function writePrivate(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.chmod(0o600); // the file may have existed with another mode
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}
