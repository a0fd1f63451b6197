/**
 * The data flows each component creates, keyed by the component's type token (the first argument of its
 * `super(...)`, public API like its name). The architecture diagram and the deck (`npm run deck`,
 * tools/deck) read the offline plan and draw one box per component instance declared here, in the cell and
 * cloud the plan puts it, named with the cloud services of the resources it holds, joined by these flows.
 * A flow whose target is not in the plan (a cell without Kafka sources, the br cell without Omni) is not
 * drawn; a component type the plan holds that is neither drawn, a part of a drawn box, a container of drawn
 * boxes, nor inside a drawn box, fails the deck and its test: a new component must be placed here.
 *
 * Why a table here rather than each component registering its flows: the plan records a component's type,
 * name, parent and cell, but not its outputs (`registerOutputs` is not a resource registration) nor its
 * inputs (skipped, see tools/plan/evaluate.ts), so a per-instance declaration would need a resource of its
 * own in every component; the type token is what the plan does record. test/deck checks that every flow
 * between two components here is backed by a reference in the plan (one side's resources depend on the
 * other's), so the table cannot claim a flow the program does not wire (docs/adr/0014-diagram-and-deck-from-the-plan.md).
 */
import type { PersonaId } from "./config/schema";

/** An external source family, drawn on the left of the cell's lane. */
export interface ExternalSource {
  /** Family name, the source node's title (one node per family and cell). */
  readonly family: string;
  /** The label of the arrow from the source to the component. */
  readonly label: string;
  /**
   * Child component type whose instances are the individual sources (their names, without the component's
   * own name, are listed in the source node). @default the component instance itself
   */
  readonly items?: string;
  /** List the individual sources in the node (false when the item is the component itself). @default true */
  readonly listed?: boolean;
  /** A resource type under each item and the input naming its kind (e.g. the DMS source endpoint's engine). */
  readonly itemDetail?: { readonly type: string; readonly input: string };
}

/** A flow from a component to another component of the same cell, or to a persona (a consumer). */
export interface Flow {
  /** Type token of the target component (same cell), or `persona:<id>` for a consumer. */
  readonly to: string;
  /** The arrow's label: what moves, and how. */
  readonly label: string;
  /** Control traffic (erasure, alerts) rather than data: drawn dashed. @default false */
  readonly control?: boolean;
}

export interface DrawnComponent {
  /** The box title; the services come from the plan. */
  readonly title: string;
  /** External sources feeding it. @default none */
  readonly sources?: readonly ExternalSource[];
  /** What it sends where. */
  readonly flows: readonly Flow[];
}

const persona = (id: PersonaId): string => `persona:${id}`;

/** Components drawn as boxes, and their flows. */
export const DRAWN_COMPONENTS: Readonly<Record<string, DrawnComponent>> = {
  "lakehouse:aws:TransactionalIngestion": {
    title: "Transactional CDC",
    sources: [
      {
        family: "Transactional databases",
        label: "CDC over TLS",
        items: "lakehouse:aws:DmsSource",
        itemDetail: { type: "aws:dms/endpoint:Endpoint", input: "engineName" },
      },
    ],
    flows: [{ to: "lakehouse:aws:StorageCore", label: "MERGE" }],
  },
  "lakehouse:aws:EventStreamSource": {
    title: "Kafka streams",
    sources: [{ family: "Kafka", label: "topics (TLS)" }],
    flows: [{ to: "lakehouse:aws:StorageCore", label: "Iceberg" }],
  },
  "lakehouse:aws:CassandraExtract": {
    title: "Cassandra extract",
    sources: [{ family: "Cassandra", label: "snapshot" }],
    flows: [{ to: "lakehouse:aws:StorageCore", label: "Iceberg" }],
  },
  "lakehouse:aws:ElasticsearchExtract": {
    title: "Elasticsearch extract",
    sources: [{ family: "Elasticsearch", label: "snapshot" }],
    flows: [{ to: "lakehouse:aws:StorageCore", label: "Iceberg" }],
  },
  "lakehouse:aws:CsvFeed": {
    title: "CSV feed",
    sources: [{ family: "CSV files", label: "S3 landing" }],
    flows: [{ to: "lakehouse:aws:StorageCore", label: "validated rows" }],
  },
  "lakehouse:aws:ApiSource": {
    title: "API puller",
    sources: [{ family: "External APIs", label: "pulls (cursor)" }],
    flows: [{ to: "lakehouse:aws:StorageCore", label: "pages" }],
  },
  "lakehouse:aws:StorageCore": {
    title: "Iceberg lake",
    flows: [
      { to: "lakehouse:federation:AthenaMarts", label: "curated orders" },
      { to: "lakehouse:federation:InCountryCopy", label: "UNLOAD" },
      { to: "lakehouse:federation:OmniFederation", label: "federated tables" },
      { to: persona("dataEngineers"), label: "Athena (curated)" },
    ],
  },
  "lakehouse:federation:AthenaMarts": {
    title: "Athena marts",
    flows: [{ to: persona("analysts"), label: "Athena SQL" }],
  },
  "lakehouse:federation:InCountryCopy": {
    title: "In-country copy",
    flows: [{ to: "lakehouse:federation:LakeFeed", label: "daily transfer" }],
  },
  "lakehouse:federation:OmniFederation": {
    title: "BigQuery Omni",
    flows: [{ to: "lakehouse:federation:LakeFeed", label: "daily INSERT" }],
  },
  "lakehouse:federation:LakeFeed": {
    title: "Lake feed",
    flows: [{ to: "lakehouse:federation:Marts", label: "orders_daily" }],
  },
  "lakehouse:federation:Marts": {
    title: "PII-free marts",
    flows: [
      { to: persona("analysts"), label: "SQL, BI" },
      { to: persona("businessUsers"), label: "dashboards" },
      { to: persona("marketingApp"), label: "segments" },
    ],
  },
  "lakehouse:gcp:CollectorService": {
    title: "Collector",
    sources: [{ family: "Website & app trackers", label: "Segment API", listed: false }],
    flows: [{ to: "lakehouse:gcp:ClickstreamEventTopic", label: "pseudonymised" }],
  },
  "lakehouse:gcp:ClickstreamEventTopic": {
    title: "Event topic",
    flows: [{ to: "lakehouse:gcp:StreamToBigQuery", label: "pull" }],
  },
  "lakehouse:gcp:StreamToBigQuery": {
    title: "Streaming load",
    flows: [{ to: "lakehouse:gcp:ClickstreamTable", label: "write API" }],
  },
  "lakehouse:gcp:ClickstreamTable": {
    title: "Clickstream events",
    flows: [
      { to: "lakehouse:gcp:MarketingViews", label: "real-time views" },
      { to: "lakehouse:federation:Marts", label: "events" },
    ],
  },
  "lakehouse:gcp:MarketingViews": {
    title: "Marketing views",
    flows: [{ to: "lakehouse:gcp:MlServing", label: "features" }],
  },
  "lakehouse:gcp:MlServing": {
    title: "Offers model",
    flows: [{ to: persona("marketingApp"), label: "predictions" }],
  },
  "lakehouse:gcp:Workbench": {
    title: "Notebooks",
    flows: [{ to: persona("dataScientists"), label: "notebooks" }],
  },
  "lakehouse:gcp:StorageCore": {
    title: "Datasets & keys",
    flows: [
      { to: "lakehouse:gcp:ClickstreamTable", label: "CMEK dataset", control: true },
      { to: "lakehouse:gcp:Workbench", label: "curated, marts" },
    ],
  },
  "lakehouse:aws:SubjectRights": {
    title: "Subject rights (AWS)",
    flows: [
      { to: "lakehouse:aws:StorageCore", label: "erase / export", control: true },
      { to: persona("privacyOfficers"), label: "exports, status", control: true },
    ],
  },
  "lakehouse:gcp:SubjectRights": {
    title: "Subject rights (GCP)",
    flows: [
      { to: "lakehouse:gcp:ClickstreamTable", label: "erase / export", control: true },
      { to: "lakehouse:gcp:CollectorService", label: "suppression list", control: true },
    ],
  },
};

/**
 * Components merged into a drawn box of the same cell (their resources count for its services): the
 * network a pipeline runs in, the key and grants of a store, the alarms on a pipeline.
 */
export const PART_OF: Readonly<Record<string, string>> = {
  "lakehouse:aws:IngestionNetwork": "lakehouse:aws:TransactionalIngestion",
  "lakehouse:gcp:ClickstreamNetwork": "lakehouse:gcp:StreamToBigQuery",
  "lakehouse:federation:OmniFeed": "lakehouse:federation:OmniFederation",
  "lakehouse:federation:AwsPersonaAccess": "lakehouse:aws:StorageCore",
  "lakehouse:federation:GcpPersonaAccess": "lakehouse:federation:Marts",
  "lakehouse:gcp:ProjectServices": "lakehouse:gcp:StorageCore",
  "lakehouse:privacy:PseudonymisationKey": "lakehouse:gcp:CollectorService",
  // Alarms belong to the pipelines they watch (the operations slide counts them).
  "lakehouse:aws:IngestionAlerts": "lakehouse:aws:TransactionalIngestion",
  "lakehouse:gcp:ClickstreamAlerts": "lakehouse:gcp:StreamToBigQuery",
};

/** Components that only group others: not drawn, their children are. */
export const CONTAINERS: readonly string[] = [
  "lakehouse:cell:Cell",
  "lakehouse:aws:Sources",
  "lakehouse:gcp:Clickstream",
  "lakehouse:federation:Federation",
];
