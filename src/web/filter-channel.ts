import type { FromWorker, ToWorker } from "./filter-engine.js";

/**
 * The page's end of one filter worker: messages go out in order, big ones spread over several tasks so posting
 * never holds the main thread for long, and every job (a message the worker answers) gets a time budget. The
 * worker runs one job at a time, in order, so the budget of a job starts when it is the oldest unanswered one
 * (and the worker has loaded). A job that overruns its budget has the worker terminated: a regular expression
 * cannot be interrupted any other way. What the page does then is the owner's decision (`overrun`).
 */

/** What the channel needs of a Worker (a test can pass a stand-in). */
export interface WorkerLike {
  postMessage(message: ToWorker): void;
  terminate(): void;
  onmessage: ((ev: { data: FromWorker }) => void) | null;
  onerror: ((ev: { message?: string; preventDefault?: () => void }) => void) | null;
}

export interface JobInfo {
  id: number;
  /** Lines (or texts) the job covers: its budget grows with them. */
  units: number;
  /** The budget it had, in ms. */
  budgetMs: number;
  /** What the job runs, as the owner named it (to tell whether an overrun concerns what is current). */
  tag: unknown;
}

export interface ChannelHooks {
  /** A job ran past its budget: the worker is terminated and every message still queued is dropped. */
  overrun(job: JobInfo): void;
  /** The worker could not load or threw: it is terminated and every message still queued is dropped. */
  failed(message: string): void;
}

interface Job extends JobInfo {
  done(reply: FromWorker): void;
}

/** Lines posted per task while a big batch (the mirror of a whole store) goes out: about 10 ms of copying. */
export const LINES_PER_TASK = 20_000;

export class FilterChannel {
  private worker: WorkerLike | null = null;
  private ready = false;
  private readonly outbox: { msg: ToWorker; lines: number; job: Job | null }[] = [];
  private readonly inflight: Job[] = [];
  private deadline: ReturnType<typeof setTimeout> | null = null;
  /** Lines posted in this task: past LINES_PER_TASK, the rest waits for a later task (tick). */
  private sentThisTask = 0;
  private tick: ReturnType<typeof setTimeout> | null = null;
  private nextId = 1;

  constructor(
    private readonly create: () => WorkerLike,
    private readonly budgetMs: (units: number) => number,
    private readonly hooks: ChannelHooks,
  ) {}

  get running(): boolean {
    return this.worker !== null;
  }

  /** Starts a worker (stopping any previous one). */
  start(): void {
    this.stop();
    const w = this.create();
    this.worker = w;
    w.onmessage = (ev) => {
      if (this.worker === w) this.onReply(ev.data);
    };
    w.onerror = (ev) => {
      ev.preventDefault?.();
      if (this.worker !== w) return;
      this.stop();
      this.hooks.failed(ev.message || "the filter worker failed to load");
    };
  }

  /** Terminates the worker and drops everything queued or unanswered. */
  stop(): void {
    this.worker?.terminate();
    this.worker = null;
    this.ready = false;
    this.outbox.length = 0;
    this.inflight.length = 0;
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
    if (this.tick !== null) clearTimeout(this.tick);
    this.tick = null;
    this.sentThisTask = 0;
  }

  /** Queues a message that gets no answer; `lines` is its size (how much posting it costs). */
  send(msg: ToWorker, lines: number): void {
    if (!this.worker) return;
    this.outbox.push({ msg, lines, job: null });
    this.post();
  }

  /**
   * Queues a job: build makes the message from the job's id; done gets the worker's answer. Its budget is
   * budgetMs(units) unless given.
   */
  job(
    build: (id: number) => ToWorker,
    units: number,
    tag: unknown,
    done: (reply: FromWorker) => void,
    budgetMs = this.budgetMs(units),
  ): void {
    if (!this.worker) return;
    const id = this.nextId++;
    const job: Job = { id, units, budgetMs, tag, done };
    this.outbox.push({ msg: build(id), lines: units, job });
    this.post();
  }

  /**
   * Posts from the front of the outbox while this task's share lasts; the rest goes in later tasks, in order
   * (what is queued behind a waiting message waits too).
   */
  private post(): void {
    const w = this.worker;
    if (!w) return;
    while (this.outbox.length > 0) {
      const next = this.outbox[0] as { msg: ToWorker; lines: number; job: Job | null };
      if (this.sentThisTask > 0 && this.sentThisTask + next.lines > LINES_PER_TASK) break;
      this.outbox.shift();
      w.postMessage(next.msg);
      this.sentThisTask += next.lines;
      if (next.job) {
        this.inflight.push(next.job);
        this.arm();
      }
    }
    if (this.sentThisTask > 0 && this.tick === null) {
      this.tick = setTimeout(() => {
        this.tick = null;
        this.sentThisTask = 0;
        this.post();
      }, 0);
    }
  }

  /** Starts the budget of the oldest unanswered job, once the worker runs. */
  private arm(): void {
    if (!this.ready || this.deadline !== null) return;
    const head = this.inflight[0];
    if (!head) return;
    this.deadline = setTimeout(() => {
      this.deadline = null;
      if (this.inflight[0] !== head) return;
      this.stop();
      this.hooks.overrun(head);
    }, head.budgetMs);
  }

  private onReply(reply: FromWorker): void {
    if (reply.t === "ready") {
      this.ready = true;
      this.arm();
      return;
    }
    const head = this.inflight.shift();
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
    if (!head || head.id !== reply.id) {
      this.stop();
      this.hooks.failed(`the filter worker answered job ${reply.id}, expected ${head?.id ?? "none"}`);
      return;
    }
    const w = this.worker;
    head.done(reply);
    if (this.worker === w) this.arm();
  }
}
