import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type CheckResult, fail, ok, warn } from "./check-result.js";

const DAY_MS = 86_400_000;
/** Renew before this: ACME clients renew at 30 days left, so 14 means renewal is not happening. */
const WARN_DAYS = 14;

/** The --tls-cert's validity against `now` (and, given the key, that they belong together). */
export async function checkTlsCert(
  certFile: string,
  keyFile: string | undefined,
  now: Date,
): Promise<CheckResult> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(await readFile(certFile));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? "not a PEM certificate";
    return fail("tls", `--tls-cert ${certFile}: ${why}`, "give the PEM certificate (chain) file");
  }
  if (keyFile !== undefined) {
    try {
      const { createPrivateKey } = await import("node:crypto");
      if (!cert.checkPrivateKey(createPrivateKey(await readFile(keyFile)))) {
        return fail(
          "tls",
          `--tls-key ${keyFile} does not belong to ${certFile}`,
          "give the key the certificate was issued for",
        );
      }
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? "not a PEM private key";
      return fail("tls", `--tls-key ${keyFile}: ${why}`, "give the PEM private key");
    }
  }
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  const subject = cert.subject.replace(/\n/g, ", ");
  if (notAfter.getTime() <= now.getTime()) {
    return fail(
      "tls",
      `${certFile} (${subject}) expired on ${notAfter.toISOString()}`,
      "renew the certificate (certbot renew, or a new one from your CA) and restart the server",
    );
  }
  if (notBefore.getTime() > now.getTime()) {
    return fail(
      "tls",
      `${certFile} is not valid before ${notBefore.toISOString()}`,
      "check this host's clock (timedatectl)",
    );
  }
  const days = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (days < WARN_DAYS) {
    return warn(
      "tls",
      `${certFile} expires in ${days} days (${notAfter.toISOString()})`,
      "renew it now; check that automatic renewal runs",
    );
  }
  return ok("tls", `${certFile} valid until ${notAfter.toISOString()} (${days} days)`);
}
