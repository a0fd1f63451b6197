/**
 * Issue 10, finding 12: every message the collector publishes validates against the topic's declared
 * Pub/Sub schema, and what the schema admits is what the Dataflow UDF turns into a BigQuery row.
 *
 * The messages come from the collector's real transformation (`BodyProcessor`, the code that runs on
 * the event loop and on the transform workers) on representative Segment events of every type and a
 * batch. They are checked the way Pub/Sub checks a JSON-encoded message on a PROTOCOL_BUFFER schema:
 * parsed with the schema's proto3 JSON mapping, unknown fields rejected (protobuf.dev/programming-guides/json,
 * "JSON Options"). The schema text is the one the topic declares (`CLICKSTREAM_EVENT_PROTO`), compiled by
 * protobufjs into a descriptor and parsed with @bufbuild/protobuf's `fromJson`, which passes the
 * protobuf conformance suite and rejects unknown fields unless told otherwise.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { createFileRegistry, type DescMessage, fromBinary, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { expect } from "chai";
import * as protobuf from "protobufjs";
import { FileDescriptorSet } from "protobufjs/ext/descriptor";
import { CLICKSTREAM_EVENT_FIELDS, CLICKSTREAM_EVENT_PROTO } from "../../components/gcp/clickstream/event-topic";
import { BodyProcessor, type Route } from "../../functions/collector/process";
import { planOf } from "../helpers/plan";

const HMAC_KEY = Buffer.alloc(32, 7);
const WRITE_KEY = "wk_web_0123456789abcdef";
const GRANTED = { consent: { categoryPreferences: { Analytics: true } } };
const DENIED = { consent: { categoryPreferences: { Analytics: false } } };
const RECEIVED_AT = "2026-03-01T10:00:00.000Z";

/** The topic's schema as a message descriptor (protobufjs parses the .proto text the topic declares). */
function schemaDescriptor(protoText: string): DescMessage {
  const root = protobuf.parse(protoText, { keepCase: true }).root;
  // `protobufjs/ext/descriptor` adds toDescriptor to Root at import time (not in Root's typings).
  const withDescriptor = root as unknown as { toDescriptor(syntax: string): protobuf.Message };
  const bytes = FileDescriptorSet.encode(withDescriptor.toDescriptor("proto3")).finish();
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  const messages = [...registry].filter((d): d is DescMessage => d.kind === "message");
  // Pub/Sub: "you must define only one top-level type" (cloud.google.com/pubsub/docs/schemas).
  expect(messages, "one top-level message type").to.have.length(1);
  return messages[0];
}

/** Pub/Sub's check of one JSON-encoded message: throws on an unknown field or a wrongly typed value. */
function validate(desc: DescMessage, data: string): void {
  fromJson(desc, JSON.parse(data) as JsonValue);
}

/** Runs the collector's real transformation on one request body; returns the message payloads. */
function publish(route: Route, body: Record<string, unknown>): string[] {
  const processor = new BodyProcessor({
    writeKeys: new Map([[WRITE_KEY, "web"]]),
    hmacKey: HMAC_KEY,
    consentCategory: "analytics",
  });
  const out = processor.process(Buffer.from(JSON.stringify(body)), {
    route,
    headerKey: WRITE_KEY,
    receivedAt: RECEIVED_AT,
    clientIp: "203.0.113.77",
  });
  if (!out.ok) throw new Error(`collector rejected the ${route} request: ${out.status} ${out.message}`);
  return out.events.map((e) => e.json);
}

/** What analytics.js and the server SDKs put on every event besides the Spec fields. */
const sdkExtras = {
  integrations: { All: true, "Google Analytics": false },
  _metadata: { bundled: ["Segment.io"], unbundled: [] },
  writeKey: WRITE_KEY,
  version: 2,
  channel: "client",
};

const context = (consent: object) => ({
  ...consent,
  ip: "198.51.100.23",
  userAgent: "Mozilla/5.0",
  locale: "pt-BR",
  library: { name: "analytics.js", version: "5.2.0" },
  page: { path: "/p/sku-1", url: "https://shop.example/p/sku-1?email=a@b.c", referrer: "https://google.com/" },
  campaign: { source: "newsletter", medium: "email" },
  device: { id: "device-1", advertisingId: "ad-1", type: "ios" },
  traits: { email: "Ana@Example.com", plan: "gold" },
});

const times = {
  timestamp: "2026-03-01T09:59:58.000Z",
  originalTimestamp: "2026-03-01T09:59:58.000Z",
  sentAt: "2026-03-01T09:59:59.000Z",
};

/** One request per Spec call, and a batch mixing them (segment.com/docs/connections/spec). */
const REQUESTS: ReadonlyArray<{
  readonly what: string;
  readonly route: Route;
  readonly body: Record<string, unknown>;
}> = [
  {
    what: "track",
    route: "track",
    body: {
      ...sdkExtras,
      ...times,
      messageId: "m-track",
      userId: "user-1",
      anonymousId: "anon-1",
      event: "Product Added",
      properties: { sku: "G-32", price: 18.99, quantity: 2, gift: true, email: "x@y.z", tags: ["a"], nested: { k: 1 } },
      context: context(GRANTED),
    },
  },
  {
    what: "page",
    route: "page",
    body: {
      ...sdkExtras,
      ...times,
      messageId: "m-page",
      anonymousId: 42,
      name: "Product",
      category: "Shoes",
      properties: { title: "G-32" },
      context: context(GRANTED),
    },
  },
  {
    what: "identify",
    route: "identify",
    body: {
      ...sdkExtras,
      messageId: "m-identify",
      userId: "user-1",
      traits: { email: "Ana@Example.com", firstName: "Ana", address: { city: "São Paulo" }, plan: "gold" },
      context: context(GRANTED),
    },
  },
  {
    what: "screen",
    route: "screen",
    body: {
      ...sdkExtras,
      messageId: "m-screen",
      userId: 7,
      name: "Checkout",
      properties: { step: 2 },
      context: context(GRANTED),
    },
  },
  {
    what: "group",
    route: "group",
    body: {
      ...sdkExtras,
      messageId: "m-group",
      userId: "user-1",
      groupId: "acme",
      traits: { name: "Acme", employees: 40 },
      context: context(GRANTED),
    },
  },
  {
    what: "alias",
    route: "alias",
    body: { ...sdkExtras, messageId: "m-alias", userId: "user-1", previousId: "anon-1", context: context(GRANTED) },
  },
  {
    what: "track without consent (reduced to an anonymous count)",
    route: "track",
    body: {
      ...sdkExtras,
      ...times,
      messageId: "m-denied",
      anonymousId: "anon-2",
      event: "Viewed",
      properties: { a: 1 },
      context: context(DENIED),
    },
  },
  {
    what: "page without a messageId, context or IP in the body",
    route: "page",
    body: { anonymousId: "anon-3", name: "Home" },
  },
  {
    what: "batch (shared context, every type, one without consent)",
    route: "batch",
    body: {
      ...sdkExtras,
      context: { ...GRANTED, library: { name: "analytics-node", version: "3.1.0" } },
      batch: [
        {
          type: "track",
          messageId: "b-1",
          userId: "u",
          event: "Order Completed",
          properties: { total: 99.5, products: [{ sku: "a" }] },
        },
        { type: "page", messageId: "b-2", anonymousId: "a", name: "Cart", _metadata: { x: 1 } },
        { type: "identify", messageId: "b-3", userId: "u", traits: { phone: "+55 11 99999-0000" } },
        { type: "screen", messageId: "b-4", userId: "u", name: "Home" },
        { type: "group", messageId: "b-5", userId: "u", groupId: 12, traits: {} },
        { type: "alias", messageId: "b-6", userId: "u", previousId: "a" },
        { type: "track", messageId: "b-7", anonymousId: "a", event: "Viewed", context: DENIED },
      ],
    },
  },
];

describe("Pub/Sub schema (issue 10, finding 12): the collector's messages validate against the topic's schema", () => {
  const desc = schemaDescriptor(CLICKSTREAM_EVENT_PROTO);
  const published = REQUESTS.map((r) => ({ ...r, messages: publish(r.route, r.body) }));

  it("the topic declares this schema, PROTOCOL_BUFFER with JSON encoding", async () => {
    const plan = await planOf("dev");
    const schemas = plan.resources.filter((r) => r.type === "gcp:pubsub/schema:Schema");
    expect(schemas).to.have.length.greaterThan(0);
    for (const s of schemas) {
      expect(s.inputs.type).to.equal("PROTOCOL_BUFFER");
      expect(s.inputs.definition).to.equal(CLICKSTREAM_EVENT_PROTO);
    }
    const topics = plan.resources.filter(
      (r) => r.type === "gcp:pubsub/topic:Topic" && r.inputs.schemaSettings !== undefined,
    );
    expect(topics).to.have.length(schemas.length);
    for (const t of topics) expect((t.inputs.schemaSettings as { encoding: string }).encoding).to.equal("JSON");
  });

  for (const r of published) {
    it(`${r.what}: every published message validates`, () => {
      expect(r.messages.length, "messages published").to.be.greaterThan(0);
      for (const m of r.messages) {
        try {
          validate(desc, m);
        } catch (err) {
          throw new Error(`${r.what}: Pub/Sub would reject ${m}\n${(err as Error).message}`);
        }
      }
    });
  }

  it("every type of call was published at least once (the table above covers the Spec)", () => {
    const types = new Set(published.flatMap((r) => r.messages.map((m) => (JSON.parse(m) as { type: string }).type)));
    expect([...types].sort()).to.deep.equal(["alias", "group", "identify", "page", "screen", "track"]);
  });

  it("the strict parser is strict: a field the schema lacks, or an object where it declares text, is rejected", () => {
    const ok = { messageId: "m", type: "track", userId: "ab12", context: '{"ip":"1.2.3.0"}', properties: "{}" };
    expect(() => validate(desc, JSON.stringify(ok))).not.to.throw();
    expect(() => validate(desc, JSON.stringify({ ...ok, integrations: { All: true } }))).to.throw(/integrations/);
    expect(() => validate(desc, JSON.stringify({ ...ok, context: { ip: "1.2.3.0" } }))).to.throw(/context/);
    expect(() => validate(desc, JSON.stringify({ ...ok, userId: 42 }))).to.throw(/userId/);
  });

  it("the Dataflow UDF turns every published message into a row of the BigQuery table's columns", () => {
    const udfDir = path.join(__dirname, "..", "..", "functions", "dataflow-udf");
    const sandbox = vm.createContext({});
    vm.runInContext(fs.readFileSync(path.join(udfDir, "clickstream_udf.js"), "utf8"), sandbox);
    const toRow = (sandbox as Record<string, unknown>).clickstreamToRow as (payload: string) => string;
    const columns = (
      JSON.parse(fs.readFileSync(path.join(udfDir, "clickstream_table_schema.json"), "utf8")) as { name: string }[]
    ).map((c) => c.name);
    const track = published[0].messages[0];
    for (const m of published.flatMap((r) => r.messages)) {
      const row = JSON.parse(toRow(m)) as Record<string, unknown>;
      expect(
        Object.keys(row).filter((k) => !columns.includes(k)),
        "row keys outside the table",
      ).to.deep.equal([]);
    }
    // The JSON-text fields arrive in the row as the JSON columns, after the privacy rules.
    const row = JSON.parse(toRow(track)) as Record<string, string | null>;
    expect(JSON.parse(row.properties ?? "null")).to.include({ sku: "G-32", price: 18.99 });
    expect(row.ip_truncated).to.equal("198.51.100.0");
    expect(row.page_url).to.equal("https://shop.example/p/sku-1");
    expect(row.library_name).to.equal("analytics.js");
    expect(row.context).to.not.contain("a@b.c");
  });

  it("the schema declares exactly the fields the collector publishes (no unused declaration)", () => {
    const seen = new Set(published.flatMap((r) => r.messages.flatMap((m) => Object.keys(JSON.parse(m) as object))));
    expect([...seen].sort()).to.deep.equal([...CLICKSTREAM_EVENT_FIELDS].sort());
  });
});
