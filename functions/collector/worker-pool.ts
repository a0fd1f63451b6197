/**
 * One worker thread (inside the one process) for the CPU-bound transformation of large bodies.
 *
 * Why: on a batch the event-loop thread spent ~7.5 µs per event in JSON parse, privacy rules and
 * re-serialisation and ~10 µs in HTTP, protobuf and gRPC; handing the first part to a worker lets the two
 * overlap (a 1-vCPU Cloud Run instance still runs both, the OS interleaves them; with 2 vCPUs they run in
 * parallel). Small bodies (browsers' single events) stay on the event-loop thread: a postMessage round
 * trip (~15-20 µs) costs more than their transformation.
 *
 * Failure: if the worker cannot start or dies, its pending jobs and every later one are processed on the
 * event-loop thread (same code, process.ts), so a worker problem costs throughput, never a request.
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { Job, TransformSettings } from "./process";
import type { SuppressionList } from "./suppression";

/** Bodies at least this large go to the worker (a 20-event analytics.js batch is ~16 KB, one event ~0.8 KB). */
export const WORKER_MIN_BODY_BYTES = 4096;

export interface WorkerSettings {
  readonly writeKeys: [string, string][];
  readonly hmacKey: Uint8Array;
  readonly consentCategory: string;
  readonly queryAllowList: string[];
  /** The suppressed pseudonyms at start; later lists arrive as `{ suppression }` messages. */
  readonly suppression: string[];
}

/** A new suppression list for the worker's copy (posted in order with the jobs: later jobs see it). */
export interface SuppressionUpdate {
  readonly suppression: readonly string[];
}

export type WorkerReply =
  | {
      readonly id: number;
      readonly ok: false;
      readonly status: number;
      readonly message: string;
      readonly crash?: string;
    }
  | {
      readonly id: number;
      readonly ok: true;
      readonly count: number;
      /** Events dropped as suppressed (process.ts Transformed.suppressed). */
      readonly suppressed: number;
      /** The events' JSON, back to back; event i ends at ends[i]. */
      readonly data: ArrayBuffer;
      readonly ends: Uint32Array;
      readonly ids: string[];
    };

/** undefined: the worker is gone, process the body on this thread. */
export type WorkerCallback = (reply: WorkerReply | undefined) => void;

export class TransformWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, WorkerCallback>();
  private nextId = 1;

  /** `suppression`: the event-loop thread's list, mirrored into the worker. @default none */
  constructor(
    settings: TransformSettings,
    private readonly onError: (err: unknown) => void,
    suppression?: SuppressionList,
  ) {
    const workerData: WorkerSettings = {
      writeKeys: [...settings.writeKeys],
      hmacKey: new Uint8Array(settings.hmacKey),
      consentCategory: settings.consentCategory,
      queryAllowList: [...(settings.queryAllowList ?? [])],
      suppression: suppression?.list() ?? [],
    };
    // Same extension as this file: .js once compiled (dist/); .ts under tsx (collector:local, tests,
    // benchmark), where the worker registers tsx's CommonJS hook before loading it.
    const ext = path.extname(__filename);
    const file = path.join(__dirname, `transform-worker${ext}`);
    try {
      const worker =
        ext === ".ts"
          ? new Worker(`require(${JSON.stringify(require.resolve("tsx/cjs"))}); require(${JSON.stringify(file)});`, {
              eval: true,
              workerData,
            })
          : new Worker(file, { workerData });
      worker.on("message", (reply: WorkerReply) => {
        const cb = this.pending.get(reply.id);
        if (cb === undefined) return;
        this.pending.delete(reply.id);
        cb(reply);
      });
      worker.on("error", (err) => this.fail(err));
      worker.on("exit", (code) => this.fail(new Error(`transform worker exited with code ${code}`)));
      // Does not keep the process alive by itself (the HTTP server does).
      worker.unref();
      this.worker = worker;
    } catch (err) {
      this.fail(err);
    }
    // Messages reach the worker in order: every body queued after a new list is judged by it.
    suppression?.onReplace((list) => {
      const update: SuppressionUpdate = { suppression: list };
      this.worker?.postMessage(update);
    });
  }

  get available(): boolean {
    return this.worker !== undefined;
  }

  /** Queues a body; false when the worker is unavailable (then process it on this thread). */
  run(raw: Buffer, job: Job, cb: WorkerCallback): boolean {
    const worker = this.worker;
    if (worker === undefined) return false;
    const id = this.nextId++;
    // A copy in its own ArrayBuffer, transferred: cloning `raw` would copy its whole backing store
    // (socket reads share slabs), and `raw` stays here for the fallback.
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    this.pending.set(id, cb);
    worker.postMessage({ id, raw: copy, job }, [copy.buffer]);
    return true;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) {
      worker.removeAllListeners("exit");
      await worker.terminate();
    }
    this.failPending();
  }

  private fail(err: unknown): void {
    if (this.worker !== undefined || this.pending.size > 0) this.onError(err);
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) void worker.terminate().catch(() => undefined);
    this.failPending();
  }

  private failPending(): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const cb of pending) cb(undefined);
  }
}
