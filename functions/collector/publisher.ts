/**
 * Publishing to Pub/Sub with the official client: one `PubSub` per process for configuration
 * (project, credentials, PUBSUB_EMULATOR_HOST), and its generated `v1.PublisherClient` built from
 * `pubsub.getClientConfig()` (the pattern the client documents for its GAPIC clients) for the Publish
 * RPC, with the batching done here.
 *
 * Why not `topic.publishMessage()`: its batcher waits a fixed `maxMilliseconds` before sending, and the
 * collector holds each HTTP request open until Pub/Sub acknowledges it (a 200 must mean "stored"), so
 * that window is added to every request; with a fixed number of client connections it caps throughput
 * (Little's law). Measured here: ~8 µs of client bookkeeping per message and a third fewer requests/s
 * than this batcher. This batcher sends on the next event-loop turn (no added latency when idle) and,
 * when MAX_CONCURRENT_PUBLISHES RPCs are already out, keeps filling the open batch, so batches grow
 * with load (adaptive batching) up to the API's limits.
 *
 * Back-pressure is explicit: hard bounds on the events and the bytes accepted but not yet acknowledged;
 * past either the collector answers 429 + Retry-After (SDKs retry) instead of queueing in memory.
 */
import { PubSub, v1 } from "@google-cloud/pubsub";
import type { OutgoingMessage } from "./event";

/**
 * Publish request limits: 1,000 messages and 10 MB per request (cloud.google.com/pubsub/quotas#resource_limits).
 * 9 MB leaves room for the request envelope and attribute overhead.
 */
const MAX_MESSAGES_PER_PUBLISH = 1000;
const MAX_BYTES_PER_PUBLISH = 9 * 1024 * 1024;
/** Concurrent Publish RPCs (HTTP/2 streams on one channel); more only makes batches smaller. */
const MAX_CONCURRENT_PUBLISHES = 8;
/**
 * Per-attempt deadline of one Publish RPC; the client's own retry policy (UNAVAILABLE, DEADLINE_EXCEEDED...
 * with exponential back-off, from its publisher_client_config.json) still applies between attempts.
 */
const PUBLISH_RPC_TIMEOUT_MS = 60_000;
/**
 * `isBundling: false`: the GAPIC Publish method is configured (publisher_client_config.json) with google-gax's
 * own bundler: requests under 100 messages wait up to 10 ms for company, and the bundler sizes each
 * message by protobuf-encoding it a first time (gax `createByteLengthFunction`), so every message was
 * encoded twice. The batching is done here, so that second batcher only added latency and CPU.
 */
const CALL_OPTIONS = { timeout: PUBLISH_RPC_TIMEOUT_MS, isBundling: false } as const;

export interface PublisherOptions {
  readonly projectId: string;
  readonly topic: string;
  readonly maxInFlightEvents: number;
  /** Bytes (messagesBytes) accepted but not yet acknowledged; the bound that holds memory. */
  readonly maxInFlightBytes: number;
}

/**
 * What a message costs while it waits for Pub/Sub, as reserved against maxInFlightBytes: its data and
 * messageId attribute, plus a constant for the objects around them and the protobuf framing.
 */
const MESSAGE_OVERHEAD_BYTES = 64;

/** The reservation for these messages (see MESSAGE_OVERHEAD_BYTES). */
export function messagesBytes(messages: readonly OutgoingMessage[]): number {
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    bytes += m.data.length + m.attributes.messageId.length + MESSAGE_OVERHEAD_BYTES;
  }
  return bytes;
}

/** Told once when the messages it waits for are acknowledged (resolve) or failed (reject). */
export interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** A request split over several Publish calls (more than 1,000 messages): settles once all parts have. */
class Parts implements Waiter {
  private settled = false;
  constructor(
    private pending: number,
    private readonly waiter: Waiter,
  ) {}

  resolve(): void {
    if (!this.settled && --this.pending === 0) {
      this.settled = true;
      this.waiter.resolve();
    }
  }

  reject(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.waiter.reject(err);
  }
}

interface Batch {
  messages: OutgoingMessage[];
  bytes: number;
  /** Sum of the messages' reservations (messagesBytes), released when the call settles. */
  reserved: number;
  waiters: Waiter[];
}

function emptyBatch(): Batch {
  return { messages: [], bytes: 0, reserved: 0, waiters: [] };
}

export class Publisher {
  private readonly pubsub: PubSub;
  private client: v1.PublisherClient | undefined;
  private readonly ready: Promise<v1.PublisherClient>;
  private readonly topicPath: string;
  private inFlight = 0;
  private inFlightBytes = 0;
  private open: Batch = emptyBatch();
  private readonly sealed: Batch[] = [];
  private rpcs = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: PublisherOptions) {
    // Reads PUBSUB_EMULATOR_HOST like every use of the official client (insecure channel to that host).
    this.pubsub = new PubSub({ projectId: options.projectId });
    this.topicPath = options.topic.startsWith("projects/")
      ? options.topic
      : `projects/${options.projectId}/topics/${options.topic}`;
    this.ready = this.pubsub.getClientConfig().then((config) => {
      // Same object, typed against the client's own google-gax copy.
      this.client = new v1.PublisherClient(config as ConstructorParameters<typeof v1.PublisherClient>[0]);
      return this.client;
    });
    // Surfaced on the first publish instead; keeps an unhandled rejection from killing the process.
    this.ready.catch(() => undefined);
  }

  get eventsInFlight(): number {
    return this.inFlight;
  }

  get bytesInFlight(): number {
    return this.inFlightBytes;
  }

  /**
   * Reserves room for n events of `bytes` (messagesBytes of what will be published); false means
   * "shed this request". Bytes are the bound that protects memory (a 31 KB event weighs as much as
   * forty browser events); with nothing in flight one request is admitted whatever its size, so a
   * bound set below the largest request cannot refuse it forever.
   */
  tryReserve(n: number, bytes: number): boolean {
    if (this.inFlight + n > this.options.maxInFlightEvents) return false;
    if (this.inFlightBytes > 0 && this.inFlightBytes + bytes > this.options.maxInFlightBytes) return false;
    this.inFlight += n;
    this.inFlightBytes += bytes;
    return true;
  }

  /** Releases a reservation that will not be published (events dropped by consent). */
  release(n: number, bytes = 0): void {
    this.inFlight -= n;
    this.inFlightBytes -= bytes;
  }

  /**
   * Queues reserved messages; `waiter` is told once Pub/Sub has acknowledged all of them (or failed).
   * A waiter object rather than a promise: nothing is allocated per request here. Reservations are
   * released when the RPC settles, not when the HTTP request stops waiting, so a stalled backend
   * keeps the bound saturated and the collector sheds load.
   */
  publish(messages: readonly OutgoingMessage[], waiter: Waiter): void {
    let first: Batch | undefined;
    let more: Batch[] | undefined;
    let start = 0;
    while (start < messages.length) {
      if (this.open.messages.length >= MAX_MESSAGES_PER_PUBLISH || this.open.bytes >= MAX_BYTES_PER_PUBLISH)
        this.seal();
      const room = MAX_MESSAGES_PER_PUBLISH - this.open.messages.length;
      const end = Math.min(messages.length, start + room);
      const batch = this.open;
      let i = start;
      // The byte limit is checked per message: a request's messages (up to 4 MiB) added whole to a
      // nearly full batch would take the Publish call past Pub/Sub's 10 MB request limit.
      for (; i < end && (i === start || batch.bytes < MAX_BYTES_PER_PUBLISH); i++) {
        const m = messages[i];
        // Passed as is (no per-message copy): the client only reads data and attributes.
        batch.messages.push(m);
        batch.bytes += m.data.length + 64;
        batch.reserved += m.data.length + m.attributes.messageId.length + MESSAGE_OVERHEAD_BYTES;
      }
      if (first === undefined) first = batch;
      else (more ??= []).push(batch);
      start = i;
    }
    // Batches are only sent from schedule()/pump(), never from here: the waiters are in place in time.
    if (first === undefined) waiter.resolve();
    else if (more === undefined) first.waiters.push(waiter);
    else {
      const parts = new Parts(1 + more.length, waiter);
      first.waiters.push(parts);
      for (const b of more) b.waiters.push(parts);
    }
    this.schedule();
  }

  /** Sends everything queued and waits for every outstanding RPC to settle. */
  flush(): Promise<void> {
    if (this.open.messages.length > 0) this.seal();
    this.pump();
    if (this.rpcs === 0 && this.sealed.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    await this.client?.close();
    await this.pubsub.close();
  }

  private seal(): void {
    this.sealed.push(this.open);
    this.open = emptyBatch();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the current I/O phase: every request parsed in this turn joins the same batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.rpcs < MAX_CONCURRENT_PUBLISHES && this.open.messages.length > 0) this.seal();
      this.pump();
    });
  }

  private pump(): void {
    while (this.rpcs < MAX_CONCURRENT_PUBLISHES && this.sealed.length > 0) {
      this.send(this.sealed.shift()!);
    }
    if (this.rpcs === 0 && this.sealed.length === 0 && this.open.messages.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private send(batch: Batch): void {
    this.rpcs++;
    const count = batch.messages.length;
    const done = (err: unknown): void => {
      this.rpcs--;
      this.inFlight -= count;
      this.inFlightBytes -= batch.reserved;
      for (const w of batch.waiters) {
        // One waiter's failure must not keep the others from hearing.
        try {
          if (err === undefined) w.resolve();
          else w.reject(err);
        } catch (e) {
          process.stderr.write(
            `${JSON.stringify({ severity: "ERROR", message: "publish waiter failed", component: "collector", error: e instanceof Error ? (e.stack ?? e.message) : String(e) })}\n`,
          );
        }
      }
      // Let go of the requests now: grpc-js/http2 objects of a finished call can outlive it until the
      // next full GC, and through this batch they kept the requests (and their messages) with them.
      batch.waiters.length = 0;
      batch.messages.length = 0;
      // A slot is free: send what accumulated meanwhile, including the open batch.
      if (this.sealed.length === 0 && this.open.messages.length > 0) this.seal();
      this.pump();
    };
    const client = this.client;
    const call = client !== undefined ? Promise.resolve(client) : this.ready;
    call
      .then((c) => c.publish({ topic: this.topicPath, messages: batch.messages }, CALL_OPTIONS))
      .then(
        () => done(undefined),
        (err: unknown) => done(err ?? new Error("publish failed")),
      );
  }
}
