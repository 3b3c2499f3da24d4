import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { type CheckResult, fail, ok, warn } from "./check-result.js";

/**
 * Whether each log can be followed by the user running this command (run doctor as the service's user: root
 * reads everything, so a check as root says little). The directory matters too: rotation is seen by watching it.
 */
export async function checkLogFile(file: string): Promise<CheckResult> {
  const dir = dirname(file);
  try {
    await access(dir, constants.R_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      return warn("file", `${file}: its directory ${dir} does not exist`, `create ${dir}, or fix the path`);
    }
    return fail(
      "file",
      `${dir} cannot be listed by ${whoami()} (${code})`,
      `chmod o+rx ${dir}, or add ${whoami()} to its group (rotation is seen by watching the directory)`,
    );
  }
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return warn("file", `${file} does not exist yet (the server waits for it)`, "check the path");
    }
    return fail(
      "file",
      `${file}: ${(error as NodeJS.ErrnoException).code}`,
      "check the path and its parents",
    );
  }
  if (info.isDirectory())
    return fail("file", `${file} is a directory`, "give the log file, not its directory");
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    return fail(
      "file",
      `${file} is not readable by ${whoami()} (${(error as NodeJS.ErrnoException).code}; mode ${mode}, owner uid ${info.uid})`,
      `chmod g+r ${file} and add ${whoami()} to its group (or setfacl -m u:${whoami()}:r ${file})`,
    );
  }
  return ok("file", `${file} is readable`);
}

/** A token file must be open to its owner only: `serve` refuses one that group or others may access. */
export async function checkTokenFile(file: string): Promise<CheckResult> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
    await access(file, constants.R_OK);
  } catch (error) {
    return fail(
      "token-file",
      `${file}: ${(error as NodeJS.ErrnoException).code}`,
      "check the path and owner",
    );
  }
  if (info.isFile() && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    return fail(
      "token-file",
      `${file} is open to group or others (mode ${mode}): serve refuses it`,
      `chmod 600 ${file} (owned by the user the server runs as)`,
    );
  }
  return ok("token-file", `${file} is private (mode ${(info.mode & 0o777).toString(8).padStart(4, "0")})`);
}

function whoami(): string {
  const uid = process.getuid?.();
  return uid === undefined ? "this user" : `uid ${uid}`;
}
