/**
 * One Pub/Sub client per process (client construction opens gRPC channels and is the documented
 * expensive part; github.com/googleapis/nodejs-pubsub README "reuse the client"), one Topic object,
 * batching tuned for throughput, and a hard bound on events not yet acknowledged by Pub/Sub.
 *
 * Back-pressure is explicit: when the bound is reached the collector answers 429 + Retry-After rather
 * than queueing in memory (the client's own flow control would block, i.e. queue, which only moves
 * the overload into the instance's RAM). Tracker SDKs retry 429 and 5xx with back-off.
 */
import { PubSub, type Topic } from "@google-cloud/pubsub";
import type { OutgoingMessage } from "./event";

/**
 * Publish API limits: at most 1,000 messages and 10 MB per Publish request
 * (cloud.google.com/pubsub/quotas#resource_limits). 9 MB leaves room for the request envelope.
 */
const PUBSUB_MAX_MESSAGES_PER_REQUEST = 1000;
const PUBSUB_MAX_BYTES_PER_REQUEST = 9 * 1024 * 1024;

export interface PublisherOptions {
  readonly projectId: string;
  readonly topic: string;
  readonly maxInFlightEvents: number;
  readonly batchMaxMs: number;
}

export class Publisher {
  readonly client: PubSub;
  private readonly topic: Topic;
  private inFlight = 0;

  constructor(private readonly options: PublisherOptions) {
    // PUBSUB_EMULATOR_HOST is honoured by the client itself (insecure channel to that host:port).
    this.client = new PubSub({ projectId: options.projectId });
    this.topic = this.client.topic(options.topic, {
      batching: {
        maxMessages: PUBSUB_MAX_MESSAGES_PER_REQUEST,
        maxBytes: PUBSUB_MAX_BYTES_PER_REQUEST,
        // A short window: the HTTP response waits for the publish acknowledgement (so a 200 means
        // "stored by Pub/Sub"), hence the window adds directly to request latency.
        maxMilliseconds: options.batchMaxMs,
      },
    });
  }

  get eventsInFlight(): number {
    return this.inFlight;
  }

  /** Reserves room for n events; false means "shed this request". */
  tryReserve(n: number): boolean {
    if (this.inFlight + n > this.options.maxInFlightEvents) return false;
    this.inFlight += n;
    return true;
  }

  /** Releases a reservation that will not be published (events dropped by consent). */
  release(n: number): void {
    this.inFlight -= n;
  }

  /**
   * Publishes reserved messages; each releases its reservation when Pub/Sub settles it, not when the
   * HTTP request gives up waiting, so a stalled backend keeps the bound saturated and sheds load.
   */
  publish(messages: readonly OutgoingMessage[]): Promise<unknown> {
    const release = (): void => {
      this.inFlight -= 1;
    };
    if (messages.length === 1) {
      const m = messages[0];
      const p = this.topic.publishMessage({ data: m.data, attributes: m.attributes });
      p.then(release, release);
      return p;
    }
    const all: Promise<string>[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const p = this.topic.publishMessage({ data: m.data, attributes: m.attributes });
      p.then(release, release);
      all[i] = p;
    }
    return Promise.all(all);
  }

  /** Sends everything queued in the client and waits for the acknowledgements. */
  async flush(): Promise<void> {
    await this.topic.flush();
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
