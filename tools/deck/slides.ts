/**
 * The deck: 16:9 slides (pptxgenjs, LAYOUT_WIDE 13.33 × 7.5 in) with speaker notes on each, every number
 * taken from `DeckFacts` (the plan and the config). `SLIDE_TITLES` is the outline the tests hold the deck to.
 */
import PptxGenJS from "pptxgenjs";
import type { DeckFacts } from "./facts";
import { durationDays, fmtInt, humanSchedule } from "./facts";
import { PRICES, ASSUMPTIONS } from "./prices";

export const SLIDE_TITLES = [
  "A compliant e-commerce lakehouse on AWS and Google Cloud",
  "The problem and what it requires",
  "The architecture, generated from the program",
  "Transactional databases: change data capture",
  "NoSQL: Cassandra and Elasticsearch",
  "Event streams: Kafka",
  "CSV files and external APIs",
  "Clickstream: collected, pseudonymised, streamed",
  "Real-time view for marketing and the offers model",
  "Analysts, data scientists and non-technical staff",
  "Scale: 100 million transactions a day",
  "Growth: autoscaling, limits and cells",
  "Security by default",
  "GDPR and LGPD: articles → controls",
  "Why two clouds",
  "Operations: the gate, alerts, the erasure bound",
  "Cost at 1×, 10× and 100×",
  "Roadmap",
] as const;

const W = 13.33;
const INK = "1F2937";
const MUTED = "6B7280";
const ACCENT = "1A73E8";
const AWS = "E07B00";
const FONT = "Liberation Sans";

type Slide = PptxGenJS.Slide;
type Row = PptxGenJS.TableRow;

const days = (d: number): string => `${fmtInt(d)} day${d === 1 ? "" : "s"}`;
const usd = (n: number): string =>
  n >= 1e6 ? `$${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `$${fmtInt(n / 1e3)} k` : `$${fmtInt(n)}`;

/** A slide with its title (smaller on a full-bleed slide such as the diagram), footer and speaker notes. */
function frame(pptx: PptxGenJS, index: number, facts: DeckFacts, notes: string, compact = false): Slide {
  const s = pptx.addSlide();
  s.background = { color: "FFFFFF" };
  s.addShape(pptx.ShapeType.rect, { x: 0, y: 0, w: W, h: 0.12, fill: { color: ACCENT }, line: { color: ACCENT } });
  s.addText(SLIDE_TITLES[index], {
    x: 0.5,
    y: compact ? 0.18 : 0.3,
    w: W - 1,
    h: compact ? 0.5 : 0.75,
    fontFace: FONT,
    fontSize: compact ? 20 : 28,
    bold: true,
    color: INK,
    valign: "middle",
    margin: 0,
  });
  s.addText(
    `stack ${facts.stack} · generated from the offline plan by npm run deck · ${index + 1}/${SLIDE_TITLES.length}`,
    {
      x: 0.5,
      y: 7.08,
      w: W - 1,
      h: 0.3,
      fontFace: FONT,
      fontSize: 9,
      color: MUTED,
      margin: 0,
    },
  );
  s.addNotes(notes);
  return s;
}

function bullets(
  s: Slide,
  items: readonly string[],
  box: { x: number; y: number; w: number; h: number },
  fontSize = 16,
): void {
  s.addText(
    items.map((t) => ({ text: t, options: { bullet: { indent: 18 }, breakLine: true } })),
    { ...box, fontFace: FONT, fontSize, color: INK, valign: "top", paraSpaceAfter: 6, margin: 2 },
  );
}

function table(
  s: Slide,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  box: { x: number; y: number; w: number; colW: number[] },
  fontSize = 12,
): void {
  const head: Row = header.map((h) => ({
    text: h,
    options: { bold: true, color: "FFFFFF", fill: { color: INK }, fontSize },
  }));
  const body: Row[] = rows.map((r, i) =>
    r.map((c) => ({ text: c, options: { fill: { color: i % 2 === 0 ? "F3F4F6" : "FFFFFF" }, fontSize } })),
  );
  s.addTable([head, ...body], {
    x: box.x,
    y: box.y,
    w: box.w,
    colW: box.colW,
    fontFace: FONT,
    color: INK,
    border: { type: "solid", pt: 0.5, color: "D1D5DB" },
    valign: "middle",
    margin: 0.05,
    autoPage: false,
  });
}

/** A big number with its caption. */
function stat(s: Slide, value: string, caption: string, x: number, y: number, w = 2.9): void {
  // Long values (schedules) in a smaller size, so they stay on one line above their caption.
  const fontSize = value.length > 18 ? 16 : value.length > 13 ? 22 : 26;
  s.addText(value, {
    x,
    y,
    w,
    h: 0.6,
    fontFace: FONT,
    fontSize,
    bold: true,
    color: ACCENT,
    margin: 0,
    valign: "bottom",
  });
  s.addText(caption, {
    x,
    y: y + 0.64,
    w,
    h: 0.5,
    fontFace: FONT,
    fontSize: 12,
    color: MUTED,
    margin: 0,
    valign: "top",
  });
}

/** A row of big numbers across the slide, at `y`. */
function stats(s: Slide, items: readonly (readonly [string, string])[], y = 4.6): void {
  const w = (W - 1) / items.length;
  items.forEach(([value, caption], i) => stat(s, value, caption, 0.5 + i * w, y, w - 0.3));
}

/** The plan's figures for a component type (`lakehouse:aws:CsvFeed`), zero when the stack declares none. */
function familyOf(facts: DeckFacts, type: string): DeckFacts["families"][string] {
  return facts.families[type] ?? { instances: 0, icebergTables: 0, schedules: [] };
}

function list(items: readonly string[], none = "none in this stack"): string {
  return items.length === 0 ? none : items.join(", ");
}

export interface DeckInput {
  readonly facts: DeckFacts;
  /** The diagram as PNG, and its aspect (width / height). */
  readonly diagramPng: Buffer;
  readonly diagramAspect: number;
}

export function buildDeck({ facts, diagramPng, diagramAspect }: DeckInput): PptxGenJS {
  const pptx = new PptxGenJS();
  pptx.layout = "LAYOUT_WIDE";
  pptx.title = SLIDE_TITLES[0];
  pptx.company = facts.config.environment;
  const f = facts;
  const p = f.plan;
  const fam = (type: string) => familyOf(f, type);
  const cellsText = f.cells.map((c) => `${c.name} (${c.law}: ${c.awsRegion} + ${c.gcpRegion})`).join(" · ");

  // 1. Title
  {
    const s = frame(
      pptx,
      0,
      f,
      `This deck is generated by npm run deck from the offline plan of the ${f.stack} stack: every number on it ` +
        `comes from the resources the Pulumi program would create (${fmtInt(f.resourceCount)} resources in ` +
        `${fmtInt(f.componentCount)} components) and from the validated stack config. If the program changes, the ` +
        `deck and the diagram change with it.`,
    );
    s.addText("One Pulumi TypeScript program: infrastructure, functions, jobs and the GDPR/LGPD policy gate", {
      x: 0.5,
      y: 1.5,
      w: W - 1,
      h: 0.8,
      fontFace: FONT,
      fontSize: 20,
      color: INK,
    });
    stat(s, String(f.cells.length), `cells: ${cellsText}`, 0.5, 2.8, 5.5);
    stat(s, fmtInt(f.resourceCount), `cloud resources in ${fmtInt(f.componentCount)} components`, 6.3, 2.8, 3);
    stat(s, String(f.policy.rules), `policy rules (${f.policy.mandatory} mandatory)`, 9.6, 2.8, 3.2);
    stat(s, fmtInt(f.scale.transactionsPerDay / 1e6) + " M", "transactions a day per cell", 0.5, 4.6, 5.5);
    stat(s, fmtInt(f.eps.peak), "clickstream events/s at peak per cell", 6.3, 4.6, 3);
    stat(s, days(Math.max(...f.cells.map((c) => c.erasureSlaDays))), "erasure SLA, held per store", 9.6, 4.6, 3.2);
  }

  // 2. Problem and requirements
  {
    const s = frame(
      pptx,
      1,
      f,
      "The case: a fast-growing e-commerce company wants everyone, non-technical staff included, to use data daily. " +
        "Sources are transactional databases, NoSQL stores, Kafka, CSV files and external APIs; marketing needs a " +
        "real-time view of the website feeding an in-house model for personalised offers. It must respect GDPR and " +
        "LGPD, be secure, run without incidents, and scale with exponential growth. The right-hand figures are the " +
        `stack's own scale config and what it means per second (peak factor ${f.scale.peakFactor}).`,
    );
    bullets(
      s,
      [
        "Ingest every source family: Oracle, MySQL, SQL Server; Cassandra, Elasticsearch; Kafka; CSV files; external APIs",
        "A real-time view of customer interactions for marketing, feeding an ML model for personalised offers",
        "Self-service for analysts, data scientists and non-technical staff, on PII-free data",
        "GDPR (EU) and LGPD (Brazil): residency, encryption, retention, erasure, audit",
        "Secure, operable without incidents, and growing with the company",
      ],
      { x: 0.5, y: 1.3, w: 7.4, h: 5.5 },
      17,
    );
    stat(s, fmtInt(f.scale.transactionsPerDay), "transactions a day (lakehouse:scale)", 8.4, 1.4, 4.4);
    stat(s, `${fmtInt(f.tps.average)} / ${fmtInt(f.tps.peak)}`, "transactions/s average / peak", 8.4, 2.7, 4.4);
    stat(s, fmtInt(f.scale.clickstreamEventsPerDay), "clickstream events a day", 8.4, 4.0, 4.4);
    stat(s, `${fmtInt(f.eps.average)} / ${fmtInt(f.eps.peak)}`, "events/s average / peak", 8.4, 5.3, 4.4);
  }

  // 3. Diagram
  {
    const s = frame(
      pptx,
      2,
      f,
      "Generated from the plan: one box per component the program declares, in its cell and cloud, named with the " +
        "services of the resources it holds; AWS and Google Cloud are the two regions, each with a lane per cell; " +
        "sources on the left, consumers (personas) on the right. Arrows are the flows the components declare " +
        "(components/flows.ts); the tests check each one against a reference in the plan. Dashed arrows are control " +
        "flows: erasure, suppression, keys. The SVG in docs/architecture.svg zooms without loss.",
      true,
    );
    const top = 0.72;
    const maxW = W - 0.2;
    const maxH = 7.05 - top;
    const w = Math.min(maxW, maxH * diagramAspect);
    const h = w / diagramAspect;
    s.addImage({
      data: `data:image/png;base64,${diagramPng.toString("base64")}`,
      x: (W - w) / 2,
      y: top,
      w,
      h,
    });
  }

  // 4. Transactional
  {
    const s = frame(
      pptx,
      3,
      f,
      "Each transactional database is replicated by its own DMS Serverless full-load + CDC replication over the " +
        "strictest TLS the engine supports, credentials from Secrets Manager, into Parquet files in the raw zone. A " +
        "scheduled Glue Spark job per table applies the changes in commit order and exactly once to Iceberg v2 " +
        "tables (MERGE with change sequence and watermarks), deriving pseudonymous customer keys with the same keyed " +
        "HMAC the collector uses, so orders and clickstream join without personal identifiers.",
    );
    bullets(
      s,
      [
        `Sources (from the plan): ${list(f.sources["Transactional databases"] ?? [])}`,
        `DMS Serverless per source: ${p.dmsCapacity.min}-${p.dmsCapacity.max} DCU, Multi-AZ, private subnets, ${p.vpcEndpoints} VPC endpoints in all and no internet route`,
        "Raw zone: Parquet with operation and commit timestamp, SSE-KMS, expires inside the erasure SLA",
        `Glue MERGE into Iceberg v2 (${p.icebergTables} Iceberg tables in the stack, with compaction, snapshot expiry and orphan-file cleanup)`,
        "Alarms on CDC latency and replication failures",
      ],
      { x: 0.5, y: 1.3, w: W - 1, h: 3.4 },
    );
    stats(s, [
      [String((f.sources["Transactional databases"] ?? []).length), "databases replicated (CDC)"],
      [`${p.dmsCapacity.min}-${p.dmsCapacity.max}`, "DCU per replication (min-max)"],
      [String(fam("lakehouse:aws:TransactionalIngestion").icebergTables), "Iceberg tables (with CDC ledgers)"],
      [list(fam("lakehouse:aws:TransactionalIngestion").schedules.map(humanSchedule), "-"), "Glue MERGE schedule"],
    ]);
  }

  // 5. NoSQL
  {
    const s = frame(
      pptx,
      4,
      f,
      "Cassandra and Elasticsearch have no change stream the lake can consume safely, so each declared store is " +
        "extracted on a schedule by a Glue Spark job (functions/nosql-extract) into curated Iceberg tables of its " +
        "cell, with the same table maintenance as the CDC tables. A cell declares its stores in lakehouse:sources.",
    );
    bullets(
      s,
      [
        `Cassandra (from the plan): ${list(f.sources["Cassandra"] ?? [])}`,
        `Elasticsearch (from the plan): ${list(f.sources["Elasticsearch"] ?? [])}`,
        "Scheduled Glue Spark extraction over a private Glue connection (TLS), credentials by reference",
        "Each collection or index lands as an Iceberg table in the cell's curated database, under Lake Formation",
        "Snapshot expiry and orphan cleanup keep erased rows from surviving past the SLA",
      ],
      { x: 0.5, y: 1.3, w: W - 1, h: 3.4 },
    );
    stats(s, [
      [String(fam("lakehouse:aws:CassandraExtract").instances), "Cassandra stores extracted"],
      [String(fam("lakehouse:aws:ElasticsearchExtract").instances), "Elasticsearch clusters extracted"],
      [
        String(
          fam("lakehouse:aws:CassandraExtract").icebergTables + fam("lakehouse:aws:ElasticsearchExtract").icebergTables,
        ),
        "Iceberg tables they fill",
      ],
    ]);
  }

  // 6. Kafka
  {
    const s = frame(
      pptx,
      5,
      f,
      "Event streams: a new MSK cluster (IAM auth, TLS, the lake key, private subnets) sized from the scale config, " +
        "with one Firehose stream per topic into Iceberg; an existing Kafka is read by MSK Connect instead (ADR 0011). " +
        "Topics keep messages only a few days, inside the erasure budget.",
    );
    bullets(
      s,
      [
        `Streams (from the plan): ${list(f.sources["Kafka"] ?? [])}`,
        p.msk
          ? `MSK: ${p.msk.brokers} brokers ${p.msk.instanceType}, ${fmtInt(p.msk.volumeGb)} GB each, ${f.specs[0].sizing.kafkaPartitions} partitions per topic at this scale`
          : "MSK: none in this stack",
        `${p.firehoseStreams} Firehose delivery streams into curated Iceberg tables`,
        "IAM authentication and TLS only; no public access; the lake's KMS key",
      ],
      { x: 0.5, y: 1.3, w: W - 1, h: 3.4 },
    );
    const msk = f.cells.flatMap((c) => c.bounds).find((b) => b.store === "MSK topics");
    stats(s, [
      [String(fam("lakehouse:aws:EventStreamSource").instances), "Kafka sources"],
      [String(f.specs[0].sizing.kafkaPartitions), "partitions per topic"],
      [String(fam("lakehouse:aws:EventStreamSource").icebergTables), "Iceberg tables (one per topic)"],
      [msk ? days(msk.days) : "-", "longest a message stays in MSK"],
    ]);
  }

  // 7. CSV and APIs
  {
    const s = frame(
      pptx,
      6,
      f,
      "CSV feeds land in the S3 landing zone and are validated on arrival by a Lambda: good files are loaded " +
        "idempotently into Iceberg, bad ones quarantined with a report. External APIs are pulled on a schedule by a " +
        "Lambda that keeps its cursor in DynamoDB and retries with back-off; pages land in S3 and are merged into Iceberg.",
    );
    bullets(
      s,
      [
        `CSV feeds (from the plan): ${list(f.sources["CSV files"] ?? [])}`,
        "Validated on arrival; loaded idempotently or quarantined with a report (functions/csv-loader)",
        `External APIs (from the plan): ${list(f.sources["External APIs"] ?? [])}`,
        "Pulls keep a cursor in DynamoDB and retry with back-off (functions/api-puller)",
        "Dead letters in SQS, kept no longer than the erasure SLA",
      ],
      { x: 0.5, y: 1.3, w: W - 1, h: 3.4 },
    );
    stats(s, [
      [String(fam("lakehouse:aws:CsvFeed").instances), "CSV feeds"],
      [String(fam("lakehouse:aws:ApiSource").instances), "API pullers"],
      [list(fam("lakehouse:aws:ApiSource").schedules.map(humanSchedule), "-"), "API merge and pull schedules"],
    ]);
  }

  // 8. Clickstream
  {
    const s = frame(
      pptx,
      7,
      f,
      "Website and app trackers send Segment-compatible events to the collector on Cloud Run. Before anything is " +
        "stored, it checks consent, replaces identifiers with a keyed HMAC (one key per cell), truncates IP " +
        "addresses and validates the schema. Pub/Sub (schema, CMEK, storage pinned to the region) feeds Google's " +
        "Pub/Sub-to-BigQuery Dataflow template with a JavaScript UDF on private workers, with a dead-letter table.",
    );
    stat(s, `${fmtInt(f.eps.average)}`, "events/s on average per cell", 0.5, 1.4, 3.9);
    stat(s, `${fmtInt(f.eps.peak)}`, `events/s at peak (× ${f.scale.peakFactor})`, 4.7, 1.4, 3.9);
    stat(s, `${p.collector.min}-${p.collector.max}`, "collector instances (min-max)", 8.9, 1.4, 3.9);
    bullets(
      s,
      [
        "Consent, keyed-HMAC pseudonyms, IP truncation and schema validation at the edge",
        `Pub/Sub with a schema and CMEK, message retention ${durationDays(p.pubsubRetention)}`,
        `Dataflow streaming into BigQuery, autoscaling up to ${p.dataflowMaxWorkers} workers`,
        "BigQuery clickstream table partitioned by day, clustered, with policy tags",
      ],
      { x: 0.5, y: 3.2, w: W - 1, h: 3.7 },
    );
  }

  // 9. Real-time + ML
  {
    const s = frame(
      pptx,
      8,
      f,
      "Marketing's real-time view is a set of BigQuery views over the streaming table, seconds behind the site. " +
        "The user-features view feeds a Vertex AI Feature Online Store (Bigtable-backed, autoscaling) that the " +
        "offers model reads online; the model is served by a Vertex AI endpoint with CMEK. The feature sync " +
        "schedule shown is the plan's: issue 15 makes it continuous.",
    );
    bullets(
      s,
      [
        `Real-time views (from the plan): ${list(p.marketingViews)}`,
        p.featureStoreNodes
          ? `Vertex AI Feature Online Store: ${p.featureStoreNodes.min}-${p.featureStoreNodes.max} Bigtable nodes, sync ${p.featureSync ? humanSchedule(p.featureSync) : "?"}`
          : "Feature Online Store: none in this stack",
        "Vertex AI endpoint for the offers model, customer-managed key, in the cell's region",
        `Marketing application reads segments from the marts (${list(p.martViews)}) and predictions from the endpoint`,
      ],
      { x: 0.5, y: 1.3, w: W - 1, h: 3.4 },
    );
    stats(s, [
      [String(p.marketingViews.length), "real-time views per cell"],
      [p.featureStoreNodes ? `${p.featureStoreNodes.min}-${p.featureStoreNodes.max}` : "-", "feature store nodes"],
      [p.featureSync ? humanSchedule(p.featureSync) : "-", "feature sync (Vertex AI cron)"],
      [String(p.martViews.length), "PII-free mart views"],
    ]);
  }

  // 10. Personas
  {
    const s = frame(
      pptx,
      9,
      f,
      "Who reads what, from components/federation/persona-matrix.ts, the table the components grant from on both " +
        "clouds (the tests check the plans grant exactly this). Analysts and business users see only PII-free " +
        "marts, through BigQuery authorized views with BI Engine for dashboards, or Athena; data scientists work in " +
        "Vertex AI Workbench notebooks over pseudonymised data; raw data is reachable only just in time.",
    );
    const zones = ["raw", "curated", "clickstream", "marts", "audit", "requests"] as const;
    table(
      s,
      ["persona", ...zones],
      f.personas.map((x) => [x.title, ...zones.map((z) => (x.access[z] === "none" ? "-" : x.access[z]))]),
      { x: 0.5, y: 1.25, w: 8.4, colW: [2.4, 1.0, 1.0, 1.1, 0.9, 0.9, 1.1] },
      11,
    );
    bullets(
      s,
      [
        `BI Engine: ${fmtInt(p.biEngineGiB)} GiB per cell for dashboards`,
        `Athena scan cutoffs: ${p.athenaCutoffsGiB.map((g) => `${fmtInt(g)} GiB`).join(", ")} per query`,
        `${p.workbenchInstances} Workbench instances, no public IP`,
        "Break-glass: time-bound, approved, audited",
      ],
      { x: 9.2, y: 1.25, w: 3.7, h: 5.6 },
      14,
    );
  }

  // 11. Scale
  {
    const s = frame(
      pptx,
      10,
      f,
      `${fmtInt(f.scale.transactionsPerDay)} transactions a day is ${fmtInt(f.tps.average)} per second on average ` +
        `and ${fmtInt(f.tps.peak)} at a peak of ${f.scale.peakFactor}× — about ${fmtInt(f.tps.peak * 6)} row changes ` +
        `per second at 6 rows per transaction. The clickstream is ${fmtInt(f.eps.average)} events/s on average. ` +
        "Sizes come from components/config/sizing.ts and the plan; bytes per event and per row are the cost " +
        "model's estimates (tools/deck/prices.ts).",
    );
    table(
      s,
      ["component", "throughput", "storage", "capacity (plan)"],
      f.loads.map((l) => [l.component, l.throughput, l.storage, l.autoscaling]),
      { x: 0.5, y: 1.3, w: W - 1, colW: [3.2, 3.5, 3.2, 2.43] },
      13,
    );
  }

  // 12. Growth
  {
    const s = frame(
      pptx,
      11,
      f,
      "Each service autoscales inside a cell between the bounds the program derives from the scale. The limits " +
        "below are the hard ceilings of one cell (components/config/cell-limits.ts); validation refuses a scale " +
        "that breaks one. The multiple is how much today's volume can grow before the first binds; past it, a " +
        "jurisdiction's traffic is split over more cells, which is a few lines of stack config.",
    );
    table(
      s,
      ["service", "limit of one cell", "binds at"],
      f.limits.map((l) => [l.service, l.limit, `${l.bindsAt}× today's scale`]),
      { x: 0.5, y: 1.3, w: 7.6, colW: [2.4, 3.0, 2.2] },
      14,
    );
    bullets(
      s,
      [
        `First to bind: ${f.limits[0].service}, at ${f.limits[0].bindsAt}×`,
        `At 100×: ${f.costs[2].cellsPerJurisdiction} cells per jurisdiction, ${f.costs[2].cells} in all`,
        "A cell is a jurisdiction's AWS region + GCP region, with its own providers",
        "Adding a country or a cell: a few lines in Pulumi.<stack>.yaml",
      ],
      { x: 8.5, y: 1.3, w: 4.4, h: 5.6 },
      15,
    );
  }

  // 13. Security
  {
    const s = frame(
      pptx,
      12,
      f,
      "Secure by default, checked by the gate: customer-managed keys that rotate on every store, TLS only, no " +
        "public access (the collector's endpoint is the one declared public endpoint, ADR 0005), private networks " +
        "with VPC endpoints and flow logs, least-privilege roles built from a small vocabulary of statements, " +
        "secrets only as Pulumi secrets, and audit logs of data access on both clouds.",
    );
    bullets(
      s,
      [
        `Customer-managed keys: ${p.kmsKeys.aws} AWS KMS keys, ${p.kmsKeys.gcp} Cloud KMS keys (one per service per cell), rotating`,
        "TLS only: bucket policies deny non-TLS and TLS < 1.2; DMS and Kafka with TLS; HTTPS collector",
        `Private: no public buckets or datasets, ${p.vpcEndpoints} VPC endpoints, no internet route for pipelines`,
        "Identifiers pseudonymised at the edge with a keyed HMAC; direct identifiers stay in restricted zones",
        "CloudTrail data events and GCP Data Access logs, kept in Object-Locked, encrypted storage",
        `Policy domains enforced: ${f.policy.domains.join(", ")}`,
      ],
      { x: 0.5, y: 1.3, w: W - 1, h: 3.4 },
    );
    stats(s, [
      [String(p.kmsKeys.aws + p.kmsKeys.gcp), "customer-managed keys"],
      [String(p.vpcEndpoints), "VPC endpoints"],
      [String(f.policy.rules), "policy rules in the gate"],
      [String(f.policy.domains.length), "control domains"],
    ]);
  }

  // 14. GDPR/LGPD
  {
    const s = frame(
      pptx,
      13,
      f,
      "Generated from the policy pack's own metadata: each rule names the GDPR and LGPD articles it serves. The " +
        "table lists, per article, the control domains and the number of rules that enforce it; the full matrix " +
        "with resource types is docs/compliance-matrix.md (npm run compliance:matrix).",
    );
    const rows = f.policy.articles.map((a) => [
      `${a.law} ${a.article}`,
      a.domains.join(", "),
      `${a.rules.length}: ${a.rules.slice(0, 3).join(", ")}${a.rules.length > 3 ? ", …" : ""}`,
    ]);
    const half = Math.ceil(rows.length / 2);
    const size = rows.length > 24 ? 8 : 9;
    table(
      s,
      ["article", "controls", "rules"],
      rows.slice(0, half),
      { x: 0.3, y: 1.2, w: 6.3, colW: [1.3, 1.7, 3.3] },
      size,
    );
    table(
      s,
      ["article", "controls", "rules"],
      rows.slice(half),
      { x: 6.75, y: 1.2, w: 6.3, colW: [1.3, 1.7, 3.3] },
      size,
    );
  }

  // 15. Why two clouds
  {
    const omni = f.cells.filter((c) => c.federation === "omni").map((c) => c.name);
    const copy = f.cells.filter((c) => c.federation === "in-country-copy").map((c) => c.name);
    const s = frame(
      pptx,
      14,
      f,
      "The transactional estate and its lake live on AWS, next to the databases; the clickstream, real-time " +
        "analytics and ML live on Google Cloud, where BigQuery, Dataflow and Vertex AI do them as managed services. " +
        "BigQuery reaches the Iceberg lake through Omni where Google has an Omni region paired with the cell's AWS " +
        "region, and through an in-country copy where it has none (South America), so no personal data leaves its " +
        "jurisdiction. One SQL surface, two clouds, one policy pack.",
    );
    bullets(
      s,
      [
        "AWS: DMS, Glue, S3 + Iceberg, Lake Formation, Athena — where the transactional data already is",
        "Google Cloud: Cloud Run, Pub/Sub, Dataflow, BigQuery, Vertex AI — streaming analytics and ML, managed",
        `BigQuery Omni over the Iceberg lake in: ${list(omni)}`,
        `In-country copy (Athena UNLOAD → Storage Transfer → BigQuery DTS) in: ${list(copy)}`,
        "Same keyed HMAC on both clouds: join keys agree without personal identifiers",
        "Each cloud's provider per cell, explicit region and project: no ambient defaults",
      ],
      { x: 0.5, y: 1.3, w: W - 1, h: 5.6 },
    );
  }

  // 16. Operations
  {
    const s = frame(
      pptx,
      15,
      f,
      "Every change runs the policy gate: in CI, pulumi preview --policy-pack policy per stack on pull requests, and " +
        "offline (npm run policy) on the plan, realistic and as a first preview. Alarms and alert policies route to " +
        "the platform team in the cell's jurisdiction. The erasure bound is computed per cell and per store " +
        "(components/config/erasure-budget.ts): validation refuses a config whose bound exceeds the SLA.",
    );
    bullets(
      s,
      [
        `Gate: ${f.policy.rules} rules, ${f.policy.mandatory} mandatory, on every pull request and deploy`,
        `${p.alarms} CloudWatch alarms, ${p.alertPolicies} Cloud Monitoring alert policies`,
        "Deploys with OIDC, no long-lived keys; stateful resources protected in prod",
      ],
      { x: 0.5, y: 1.2, w: 5.2, h: 5.6 },
      15,
    );
    const stores = [...new Set(f.cells.flatMap((c) => c.bounds.map((b) => b.store)))];
    const rows = stores.map((store) => [
      store,
      ...f.cells.map((c) => {
        const b = c.bounds.find((x) => x.store === store);
        return b === undefined ? "-" : b.exempt ? `${b.days} (kept)` : String(b.days);
      }),
    ]);
    table(
      s,
      ["store: days until erased data is gone", ...f.cells.map((c) => `${c.name} (SLA ${c.erasureSlaDays})`)],
      rows,
      { x: 5.9, y: 1.2, w: 7.1, colW: [7.1 - f.cells.length * 1.3, ...f.cells.map(() => 1.3)] },
      10,
    );
  }

  // 17. Cost
  {
    const s = frame(
      pptx,
      16,
      f,
      "List prices (USD, US regions, no free tiers or discounts) times the quantities the program's own sizing " +
        "functions give at 1×, 10× and 100× today's scale; past a cell's limits the volume is split over more " +
        `cells. Assumed ${ASSUMPTIONS.eventBytes} bytes per event and ${ASSUMPTIONS.rowBytes} bytes per row. Prices, ` +
        "sources and the date read are in tools/deck/prices.ts; those marked there as estimates are still to be " +
        "checked against the pages. The cells' regions list above US prices (not modelled); fixed per-cell services are left out.",
    );
    const comps = f.costs[0].lines.map((l) => l.component);
    const rows = comps.map((c) => [c, ...f.costs.map((k) => usd(k.lines.find((l) => l.component === c)!.usdPerMonth))]);
    rows.push(["Total per month", ...f.costs.map((k) => usd(k.totalUsdPerMonth))]);
    rows.push(["Cells", ...f.costs.map((k) => String(k.cells))]);
    table(
      s,
      [
        "component (per month)",
        ...f.costs.map((k) => `${k.multiple}× (${fmtInt(k.scale.transactionsPerDay / 1e6)} M tx/day)`),
      ],
      rows,
      { x: 0.5, y: 1.2, w: 8.6, colW: [2.9, 1.9, 1.9, 1.9] },
      12,
    );
    const checked = Object.values(PRICES).filter((x) => x.verified).length;
    bullets(
      s,
      [
        `${Object.keys(PRICES).length} unit prices read ${PRICES.pubsubThroughput.read}: ${checked} matched against copies of the pricing pages, the rest estimates to check (tools/deck/prices.ts)`,
        (() => {
          const top = [...f.costs[0].lines].sort((a, b) => b.usdPerMonth - a.usdPerMonth)[0];
          const share = Math.round((100 * top.usdPerMonth) / f.costs[0].totalUsdPerMonth);
          return `Largest line at 1×: ${top.component}, ${share} % of the total`;
        })(),
        "Streaming compute grows linearly; storage grows with retention",
      ],
      { x: 9.4, y: 1.2, w: 3.5, h: 5.6 },
      13,
    );
  }

  // 18. Roadmap
  {
    const s = frame(
      pptx,
      17,
      f,
      "The open issues of the project, by theme, and the gaps the README lists under 'Not covered' and 'Not tested here'.",
    );
    bullets(
      s,
      [
        "One source of truth: each shared fact written once, config problems found in one pass (issue 12)",
        "Data-subject rights on both clouds end to end, with the physical-deletion bound enforced (issue 14)",
        "From features to a served model: continuous feature sync, notebooks with data, deployment path (issue 15)",
        "Erasure for Kafka tables written by Firehose / MSK Connect, and schemaless event tables",
        "Run the gate under the real Pulumi CLI in CI; measure the cost model's volumes once live",
      ],
      { x: 0.5, y: 1.3, w: W - 1, h: 5.6 },
    );
  }
  void AWS;
  return pptx;
}
