/**
 * A local gRPC server implementing google.pubsub.v1.Publisher/Publish from the client's own protos,
 * so the real @google-cloud/pubsub client is exercised end to end (the Pub/Sub emulator needs a JRE
 * and gcloud, which this machine does not have). Everything else answers UNIMPLEMENTED (grpc-js default).
 *
 * Modes make the backend misbehave on purpose:
 * - ok: acknowledge and record;
 * - fail: UNAVAILABLE (the client retries it with back-off, per its gapic retry config);
 * - reject: NOT_FOUND (not retried: the publish promise rejects at once);
 * - stall: hold calls unanswered until the mode changes, then answer them in the new mode.
 */
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export type FakeMode = "ok" | "fail" | "reject" | "stall";

export interface ReceivedMessage {
  readonly topic: string;
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
  readonly messageId: string;
}

interface PublishRequest {
  topic: string;
  messages: { data: Buffer; attributes: Record<string, string> }[];
}
type PublishCall = grpc.ServerUnaryCall<PublishRequest, { messageIds: string[] }>;
type PublishCallback = grpc.sendUnaryData<{ messageIds: string[] }>;

const PUBSUB_DIR = path.dirname(require.resolve("@google-cloud/pubsub/package.json"));
// pubsub.proto imports google/api/*.proto, which ship with the client's google-gax dependency.
const PROTO_DIRS = [
  path.join(PUBSUB_DIR, "build", "protos"),
  // google-gax's exports map hides package.json; its main is build/src/index.js.
  path.join(path.dirname(require.resolve("google-gax", { paths: [PUBSUB_DIR] })), "..", "protos"),
];

export class FakePubSub {
  readonly messages: ReceivedMessage[] = [];
  /** Messages acknowledged (also counted when `record` is false, for the benchmark). */
  acknowledged = 0;
  publishCalls = 0;
  private mode: FakeMode = "ok";
  private held: { call: PublishCall; callback: PublishCallback }[] = [];
  private server: grpc.Server | undefined;
  private nextId = 1;
  port = 0;

  /** @param record keep every message (tests); false only counts (benchmark). */
  constructor(private readonly record = true) {}

  async start(): Promise<number> {
    const definition = protoLoader.loadSync("google/pubsub/v1/pubsub.proto", {
      includeDirs: PROTO_DIRS,
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      google: { pubsub: { v1: { Publisher: grpc.ServiceClientConstructor } } };
    };
    // Pub/Sub takes Publish requests up to 10 MB (cloud.google.com/pubsub/quotas#resource_limits) and
    // the collector sends up to 9 MB; grpc-js servers refuse over 4 MB by default (RESOURCE_EXHAUSTED,
    // which the client retries for minutes).
    const server = new grpc.Server({ "grpc.max_receive_message_length": 16 * 1024 * 1024 });
    let service = proto.google.pubsub.v1.Publisher.service;
    if (!this.record) {
      // Count-only mode (benchmark): scan the wire format instead of decoding every message, so the
      // endpoint costs as little CPU as possible on the shared cores and the figure is the collector's.
      const publish = service.Publish;
      service = {
        ...service,
        Publish: {
          ...publish,
          requestDeserialize: (buf: Buffer) => ({ topic: "", messages: new Array(countRepeatedField2(buf)) }),
          responseSerialize: (value: { messageIds: string[] }) => encodeIds(value.messageIds.length),
        },
      };
    }
    server.addService(service, {
      Publish: (call: PublishCall, callback: PublishCallback) => this.onPublish(call, callback),
    });
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
    this.server = server;
    return this.port;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  setMode(mode: FakeMode): void {
    this.mode = mode;
    if (mode !== "stall") {
      const held = this.held;
      this.held = [];
      for (const h of held) this.answer(h.call, h.callback);
    }
  }

  get heldCalls(): number {
    return this.held.length;
  }

  /** Distinct messageId attribute values received, with how often each arrived. */
  countsByMessageId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.messages) {
      const id = m.attributes.messageId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  /** Decoded JSON bodies. */
  /**
   * The published events as a consumer reads them: the topic's schema carries `context`, `properties`
   * and `traits` as JSON text (event-topic.ts), which the Dataflow UDF parses; so does this.
   */
  events(): Record<string, unknown>[] {
    return this.messages.map((m) => {
      const e = JSON.parse(m.data.toString("utf8")) as Record<string, unknown>;
      for (const k of ["context", "properties", "traits"]) {
        if (typeof e[k] === "string") e[k] = JSON.parse(e[k] as string) as unknown;
      }
      return e;
    });
  }

  /** The published messages exactly as the topic receives them (for schema checks). */
  rawEvents(): Record<string, unknown>[] {
    return this.messages.map((m) => JSON.parse(m.data.toString("utf8")) as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    this.setMode("ok");
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    server.forceShutdown();
  }

  private onPublish(call: PublishCall, callback: PublishCallback): void {
    this.publishCalls++;
    if (this.mode === "stall") {
      this.held.push({ call, callback });
      return;
    }
    this.answer(call, callback);
  }

  private answer(call: PublishCall, callback: PublishCallback): void {
    if (this.mode === "fail") {
      callback({ code: grpc.status.UNAVAILABLE, details: "injected: backend unavailable" });
      return;
    }
    if (this.mode === "reject") {
      callback({ code: grpc.status.NOT_FOUND, details: "injected: topic not found" });
      return;
    }
    const req = call.request;
    if (!this.record) {
      this.acknowledged += req.messages.length;
      callback(null, { messageIds: req.messages as unknown as string[] });
      return;
    }
    const ids: string[] = new Array(req.messages.length);
    for (let i = 0; i < req.messages.length; i++) {
      const id = String(this.nextId++);
      ids[i] = id;
      if (this.record) {
        const m = req.messages[i];
        this.messages.push({
          topic: req.topic,
          data: Buffer.from(m.data),
          attributes: { ...m.attributes },
          messageId: id,
        });
      }
    }
    this.acknowledged += req.messages.length;
    callback(null, { messageIds: ids });
  }
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
  }
}

/** Number of `messages` (field 2, length-delimited) in a serialized PublishRequest. */
function countRepeatedField2(buf: Buffer): number {
  let count = 0;
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    const [len, p2] = readVarint(buf, p1);
    if (tag >> 3 === 2) count++;
    pos = p2 + len; // every PublishRequest field is length-delimited (wire type 2)
  }
  return count;
}

/** A PublishResponse with n message ids, each the one-character id "0". */
function encodeIds(n: number): Buffer {
  const out = Buffer.allocUnsafe(3 * n);
  for (let i = 0; i < n; i++) {
    out[3 * i] = 0x0a; // field 1, wire type 2
    out[3 * i + 1] = 1;
    out[3 * i + 2] = 0x30;
  }
  return out;
}
