/**
 * Dataflow JavaScript UDF for Google's "Pub/Sub to BigQuery" flex template (PubSub_to_BigQuery_Flex):
 * maps one collector event (the Pub/Sub message payload, a JSON string) to one row of the BigQuery
 * clickstream table (schema: clickstream_table_schema.json next to this file).
 *
 * Template parameters (cloud.google.com/dataflow/docs/guides/templates/provided/pubsub-to-bigquery):
 *   javascriptTextTransformGcsPath      = gs://<staging bucket>/<prefix>/clickstream_udf.js
 *   javascriptTextTransformFunctionName = clickstreamToRow
 * The template calls the function with the message payload string and expects a JSON string back.
 * It runs in the template's embedded JavaScript engine (Nashorn-class): plain ES5, no require, no
 * Node globals. A thrown error sends the message to the template's dead-letter table
 * (outputDeadletterTable) with the error, which is where malformed input must go.
 *
 * Input: what functions/collector publishes (already pseudonymised, consent applied, IP truncated).
 */

/** Collector payload -> BigQuery row (JSON string). */
function clickstreamToRow(payload) {
  var ev = JSON.parse(payload);
  // Some template configurations hand the UDF the whole Pub/Sub message ({data, attributes}).
  if (ev && ev.attributes && ev.data !== undefined && ev.type === undefined) {
    ev = typeof ev.data === "string" ? JSON.parse(ev.data) : ev.data;
  }
  if (!ev || typeof ev !== "object") throw new Error("payload is not a JSON object");
  if (typeof ev.messageId !== "string" || ev.messageId === "") throw new Error("messageId missing");
  if (typeof ev.type !== "string" || ev.type === "") throw new Error("type missing");
  if (typeof ev.receivedAt !== "string") throw new Error("receivedAt missing");

  // The collector publishes context, properties and traits as JSON text (the Pub/Sub schema cannot
  // type free-form objects: components/gcp/clickstream/event-topic.ts); objects from messages published
  // before that schema revision are still read, so a replay of the topic keeps working.
  var context = obj(parsed(ev.context));
  var page = obj(context.page);
  var library = obj(context.library);
  var row = {
    message_id: ev.messageId,
    event_type: ev.type,
    event_name: str(ev.type === "track" ? ev.event : ev.name),
    category: str(ev.category),
    user_pseudo_id: str(ev.userId),
    anonymous_pseudo_id: str(ev.anonymousId),
    group_pseudo_id: str(ev.groupId),
    previous_pseudo_id: str(ev.previousId),
    consent: str(ev.consent),
    source: str(ev.source),
    event_timestamp: eventTimestamp(ev),
    client_timestamp: iso(ev.timestamp !== undefined ? ev.timestamp : ev.originalTimestamp),
    sent_at: iso(ev.sentAt),
    received_at: iso(ev.receivedAt),
    ip_truncated: str(context.ip),
    user_agent: str(context.userAgent),
    locale: str(context.locale),
    page_path: str(page.path),
    page_url: withoutQuery(page.url),
    page_referrer: withoutQuery(page.referrer),
    library_name: str(library.name),
    library_version: str(library.version),
    campaign: json(context.campaign),
    properties: json(parsed(ev.properties)),
    traits: json(parsed(ev.traits)),
    context: json(scrubContext(context))
  };
  if (row.received_at === null) throw new Error("receivedAt is not a date");
  return JSON.stringify(row);
}

/** A published JSON-text field as its value; anything that is not a string is returned as is. */
function parsed(v) {
  return typeof v === "string" ? JSON.parse(v) : v;
}

function obj(v) {
  return v !== null && typeof v === "object" && !(v instanceof Array) ? v : {};
}

function str(v) {
  if (v === undefined || v === null) return null;
  return typeof v === "string" ? v : String(v);
}

/** JSON columns take the JSON text. Empty objects become NULL so "no properties" is one thing. */
function json(v) {
  if (v === undefined || v === null) return null;
  if (typeof v === "object") {
    for (var k in v) {
      if (Object.prototype.hasOwnProperty.call(v, k)) return JSON.stringify(v);
    }
    return null;
  }
  return JSON.stringify(v);
}

function iso(v) {
  if (typeof v !== "string") return null;
  var t = new Date(v).getTime();
  return isNaN(t) ? null : new Date(t).toISOString();
}

/**
 * Clock-skew correction, as Segment does (segment.com/docs/connections/spec/common/#timestamps):
 * device clocks are often wrong, so the event time is receivedAt − (sentAt − timestamp), i.e. the
 * server's clock minus the delay the device measured on its own clock. Falls back to the device time,
 * then to receivedAt. An event time in the future of receivedAt is not possible and is clamped.
 */
function eventTimestamp(ev) {
  var received = new Date(ev.receivedAt).getTime();
  var clientRaw = ev.timestamp !== undefined ? ev.timestamp : ev.originalTimestamp;
  var client = typeof clientRaw === "string" ? new Date(clientRaw).getTime() : NaN;
  var sent = typeof ev.sentAt === "string" ? new Date(ev.sentAt).getTime() : NaN;
  var t;
  if (!isNaN(client) && !isNaN(sent) && !isNaN(received)) t = received - (sent - client);
  else if (!isNaN(client)) t = client;
  else t = received;
  if (!isNaN(received) && t > received) t = received;
  return isNaN(t) ? null : new Date(t).toISOString();
}

/** The context as stored: page URLs without query/fragment (same reason as below), `page.search` dropped. */
function scrubContext(context) {
  var copy = JSON.parse(JSON.stringify(context));
  if (copy.page !== null && typeof copy.page === "object") {
    if (copy.page.url !== undefined) copy.page.url = withoutQuery(copy.page.url);
    if (copy.page.referrer !== undefined) copy.page.referrer = withoutQuery(copy.page.referrer);
    delete copy.page.search;
  }
  return copy;
}

/** Query strings and fragments carry e-mails, tokens and order ids; campaign fields come parsed in context.campaign. */
function withoutQuery(v) {
  if (typeof v !== "string") return null;
  var cut = v.search(/[?#]/);
  return cut < 0 ? v : v.substring(0, cut);
}
