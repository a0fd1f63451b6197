/**
 * The transform worker's thread (worker_threads, same process): runs BodyProcessor on large bodies so
 * JSON parse, the privacy rules and re-serialisation (~7.5 µs per event) overlap with the event-loop
 * thread's HTTP and gRPC work. Answers with the message payloads packed in one transferred buffer.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BodyProcessor, type Job } from "./process";
import { SuppressionList } from "./suppression";
import type { SuppressionUpdate, WorkerReply, WorkerSettings } from "./worker-pool";

const init = workerData as WorkerSettings;
const suppression = new SuppressionList(init.suppression);
const processor = new BodyProcessor(
  {
    writeKeys: new Map(init.writeKeys),
    hmacKey: Buffer.from(init.hmacKey),
    consentCategory: init.consentCategory,
    queryAllowList: init.queryAllowList,
  },
  suppression,
);
const port = parentPort;
if (port === null) throw new Error("transform-worker.ts must run as a worker thread");

port.on("message", (msg: { id: number; raw: Uint8Array; job: Job } | SuppressionUpdate) => {
  if ("suppression" in msg) {
    suppression.replace(msg.suppression);
    return;
  }
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const r = processor.process(msg.raw, msg.job);
    if (!r.ok) reply = { id: msg.id, ok: false, status: r.status, message: r.message };
    else {
      const n = r.events.length;
      let total = 0;
      for (let i = 0; i < n; i++) total += Buffer.byteLength(r.events[i].json);
      const data = Buffer.allocUnsafeSlow(total);
      const ends = new Uint32Array(n);
      const ids: string[] = new Array<string>(n);
      let off = 0;
      for (let i = 0; i < n; i++) {
        off += data.write(r.events[i].json, off);
        ends[i] = off;
        ids[i] = r.events[i].messageId;
      }
      reply = {
        id: msg.id,
        ok: true,
        count: r.count,
        suppressed: r.suppressed,
        data: data.buffer as ArrayBuffer,
        ends,
        ids,
      };
      transfer.push(data.buffer as ArrayBuffer, ends.buffer);
    }
  } catch (err) {
    reply = {
      id: msg.id,
      ok: false,
      status: 500,
      message: "internal error",
      crash: err instanceof Error ? (err.stack ?? err.message) : String(err),
    };
  }
  port.postMessage(reply, transfer);
});
