/**
 * The Dataflow UDF, run the way the template runs it: the file's text evaluated in an empty JavaScript
 * context (no require, no Node globals), the function called by name with a payload string.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
// acorn comes with the lint toolchain (eslint -> espree); it is the strict ES5 parser we need here.
import * as acorn from "acorn";
import { expect } from "chai";
import fc from "fast-check";

const DIR = path.join(__dirname, "..", "..", "functions", "dataflow-udf");
const SOURCE = fs.readFileSync(path.join(DIR, "clickstream_udf.js"), "utf8");
const SCHEMA = JSON.parse(fs.readFileSync(path.join(DIR, "clickstream_table_schema.json"), "utf8")) as {
  name: string;
  type: string;
  mode: string;
}[];
const FUNCTION_NAME = "clickstreamToRow";

function loadUdf(): (payload: string) => string {
  const context = vm.createContext({});
  vm.runInContext(SOURCE, context, { filename: "clickstream_udf.js" });
  const fn = (context as Record<string, unknown>)[FUNCTION_NAME];
  expect(fn, `${FUNCTION_NAME} defined at top level`).to.be.a("function");
  return fn as (payload: string) => string;
}

const udf = loadUdf();
const row = (ev: unknown) => JSON.parse(udf(JSON.stringify(ev))) as Record<string, unknown>;

const granted = {
  messageId: "ajs-1",
  type: "track",
  event: "Product Viewed",
  userId: "a".repeat(64),
  anonymousId: "b".repeat(64),
  timestamp: "2025-01-01T12:00:00.000Z",
  sentAt: "2025-01-01T12:00:05.000Z",
  receivedAt: "2025-01-01T12:10:00.000Z",
  consent: "granted",
  source: "web",
  properties: { sku: "G-32", price: 18.99 },
  context: {
    ip: "203.0.113.0",
    userAgent: "Mozilla/5.0",
    locale: "pt-BR",
    library: { name: "analytics.js", version: "1.0" },
    page: {
      path: "/p/x",
      url: "https://shop.example/p/x?email=a@b.c#top",
      referrer: "https://google.com/?q=me",
      search: "?email=a@b.c",
    },
    campaign: { source: "newsletter", medium: "email" },
    consent: { categoryPreferences: { Analytics: true } },
  },
};

describe("Dataflow UDF clickstreamToRow", () => {
  it("is ECMAScript 5 (the template's JS engine), with no require", () => {
    expect(() => acorn.parse(SOURCE, { ecmaVersion: 5 })).to.not.throw();
    expect(SOURCE).to.not.match(/\brequire\s*\(/);
  });

  it("maps a consented track event to the table's row", () => {
    const r = row(granted);
    expect(r).to.deep.include({
      message_id: "ajs-1",
      event_type: "track",
      event_name: "Product Viewed",
      user_pseudo_id: "a".repeat(64),
      anonymous_pseudo_id: "b".repeat(64),
      consent: "granted",
      source: "web",
      // 12:10:00 received − (12:00:05 sent − 12:00:00 event) = 12:09:55 by the server's clock
      event_timestamp: "2025-01-01T12:09:55.000Z",
      client_timestamp: "2025-01-01T12:00:00.000Z",
      received_at: "2025-01-01T12:10:00.000Z",
      ip_truncated: "203.0.113.0",
      page_path: "/p/x",
      page_url: "https://shop.example/p/x",
      page_referrer: "https://google.com/",
      library_name: "analytics.js",
      traits: null,
    });
    expect(JSON.parse(r.properties as string)).to.deep.equal({ sku: "G-32", price: 18.99 });
    expect(JSON.parse(r.campaign as string)).to.deep.equal({ source: "newsletter", medium: "email" });
    expect(r.context as string).to.not.contain("a@b.c");
    expect(r.context as string).to.not.contain("?q=");
  });

  it("maps a consent-denied count record: no identifiers", () => {
    const r = row({
      messageId: "m2",
      type: "page",
      name: "Home",
      consent: "denied",
      source: "web",
      receivedAt: "2025-01-01T00:00:00.000Z",
      context: { library: { name: "x", version: "1" } },
    });
    expect(r).to.deep.include({
      event_type: "page",
      event_name: "Home",
      consent: "denied",
      user_pseudo_id: null,
      anonymous_pseudo_id: null,
      ip_truncated: null,
      event_timestamp: "2025-01-01T00:00:00.000Z",
    });
  });

  it("clamps an event time in the future of receivedAt", () => {
    const r = row({ ...granted, sentAt: undefined, timestamp: "2030-01-01T00:00:00.000Z" });
    expect(r.event_timestamp).to.equal(granted.receivedAt);
  });

  it("accepts the whole-message shape ({data, attributes})", () => {
    const r = row({ data: JSON.stringify(granted), attributes: { messageId: "ajs-1" } });
    expect(r.message_id).to.equal("ajs-1");
  });

  const bad: [string, string, RegExp][] = [
    ["malformed JSON", "{", /JSON|Unexpected|Expected/],
    ["not an object", "42", /not a JSON object/],
    ["no messageId", JSON.stringify({ type: "track", receivedAt: "2025-01-01T00:00:00Z" }), /messageId/],
    ["no receivedAt", JSON.stringify({ type: "track", messageId: "m" }), /receivedAt/],
    ["receivedAt not a date", JSON.stringify({ type: "track", messageId: "m", receivedAt: "soon" }), /receivedAt/],
  ];
  for (const [name, payload, error] of bad) {
    // A throw sends the message to the template's dead-letter table.
    it(`throws on ${name}`, () => expect(() => udf(payload)).to.throw(error));
  }

  it("every row has only schema columns, REQUIRED ones set, and types the schema expects", () => {
    const columns = new Map(SCHEMA.map((c) => [c.name, c]));
    const event = fc.record(
      {
        messageId: fc.string({ minLength: 1 }),
        type: fc.constantFrom("track", "identify", "page", "screen", "group", "alias"),
        event: fc.string(),
        name: fc.string(),
        userId: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
        timestamp: fc
          .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
          .map((d) => d.toISOString()),
        sentAt: fc
          .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
          .map((d) => d.toISOString()),
        receivedAt: fc
          .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
          .map((d) => d.toISOString()),
        properties: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
        context: fc.record(
          { ip: fc.ipV4(), page: fc.record({ url: fc.webUrl({ withQueryParameters: true, withFragments: true }) }) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ["messageId", "type", "receivedAt"] },
    );
    fc.assert(
      fc.property(event, (ev) => {
        const r = row(ev);
        for (const [k, v] of Object.entries(r)) {
          const col = columns.get(k);
          expect(col, `column ${k}`).to.not.equal(undefined);
          if (col!.mode === "REQUIRED") expect(v, k).to.not.equal(null);
          if (v === null) continue;
          expect(v, k).to.be.a("string");
          if (col!.type === "TIMESTAMP") expect(Number.isNaN(Date.parse(v as string)), k).to.equal(false);
          if (col!.type === "JSON") expect(() => JSON.parse(v as string), k).to.not.throw();
        }
        for (const c of SCHEMA) if (c.mode === "REQUIRED") expect(r, c.name).to.have.property(c.name);
        if (typeof r.page_url === "string") expect(r.page_url).to.not.match(/[?#]/);
      }),
    );
  });
});
