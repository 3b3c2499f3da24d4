import { spawn } from "node:child_process";
import { fstatSync, read } from "node:fs";

/** How often a socket stdout is probed: well inside the 100 ms a `| head` user should wait. */
const PROBE_MS = 50;

/**
 * Calls `onClosed` once when nobody reads our standard output any more (`livetrail tail ... | head` after head
 * exited), even while nothing is written. Node learns of a closed pipe only when a write fails (EPIPE), so a
 * follower of a quiet log would hang until its next line. What can be watched depends on what stdout is:
 * - a socket (Node's child_process pipes, systemd): the reader's end closing reads as end-of-file on our end, so a
 *   non-blocking read every 50 ms says so (nobody writes to it, so the read consumes nothing);
 * - a FIFO (a shell pipe): only poll(2) sees the reader go (POLLERR), and Node cannot poll a descriptor; GNU
 *   `tail -f` (coreutils >= 8.28) does exactly that, so a helper `tail -f --pid=OURS /dev/null` shares our stdout,
 *   writes nothing, and exits when the reader goes (or when we do). Without GNU tail, the next write's EPIPE is
 *   the only sign (handled in cli/main.ts).
 * Returns a function that stops watching.
 */
export function watchOutputClosed(onClosed: () => void): () => void {
  let done = false;
  const closed = (): void => {
    if (done) return;
    done = true;
    stop();
    onClosed();
  };
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code === "EPIPE") closed();
  };
  process.stdout.once("close", closed);
  process.stdout.on("error", onError);
  let kind: "socket" | "fifo" | "other" = "other";
  try {
    const info = fstatSync(1);
    kind = info.isSocket() ? "socket" : info.isFIFO() ? "fifo" : "other";
  } catch {
    // No stdout at all: nothing to watch.
  }
  const stopProbe = kind === "socket" ? probeSocket(closed) : kind === "fifo" ? probeFifo(closed) : () => {};
  function stop(): void {
    done = true;
    process.stdout.off("close", closed);
    process.stdout.off("error", onError);
    stopProbe();
  }
  return stop;
}

function probeSocket(closed: () => void): () => void {
  const buffer = Buffer.alloc(1);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const probe = (): void => {
    read(1, buffer, 0, 1, null, (error, bytes) => {
      if (stopped) return;
      const code = (error as NodeJS.ErrnoException | null)?.code;
      // EAGAIN: open and quiet. 0 bytes: the reader's end is closed. A reset or a broken pipe: the same.
      if (bytes === 0 && error === null) return closed();
      if (code === "ECONNRESET" || code === "EPIPE" || code === "ENOTCONN") return closed();
      if (code !== "EAGAIN" && code !== "EWOULDBLOCK" && error !== null) return; // cannot tell: stop probing
      timer = setTimeout(probe, PROBE_MS);
      timer.unref();
    });
  };
  probe();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function probeFifo(closed: () => void): () => void {
  let stopped = false;
  const helper = spawn("tail", ["-f", "-s", "0.05", `--pid=${process.pid}`, "/dev/null"], {
    stdio: ["ignore", 1, "ignore"],
  });
  helper.unref();
  // No GNU tail (ENOENT), or one without --pid: fall back to EPIPE on the next write.
  helper.once("error", () => {});
  helper.once("exit", (_code, signal) => {
    // GNU tail dies of SIGPIPE when the reader is gone (libuv gives children default signal handlers); any other
    // end (no --pid: a usage error) says nothing about the reader.
    if (!stopped && signal === "SIGPIPE") closed();
  });
  const kill = (): void => {
    helper.kill();
  };
  process.once("exit", kill);
  return () => {
    stopped = true;
    process.off("exit", kill);
    helper.kill();
  };
}
