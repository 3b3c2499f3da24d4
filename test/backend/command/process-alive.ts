import { readFileSync } from "node:fs";

/** Whether a process runs: it exists and is not a zombie (an orphan's zombie may linger under a PID 1 that never reaps). */
export function alive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // "pid (comm) S ...": the state follows the last ")" (comm may hold spaces and parentheses).
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}
