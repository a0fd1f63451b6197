/**
 * The list-price model behind the deck's cost slide: monthly cost of the volume-driven services at 1×, 10×
 * and 100× the stack's `lakehouse:scale`, with the quantities derived by the program's own sizing functions
 * (deriveSizing, collectorInstances, scaleLimitProblems) and the unit prices below.
 *
 * Every price is a USD list price for a US region, without free tiers, discounts or commitments. Each has
 * its source URL and the date it was read (2026-12-04, without internet access to the vendors' pages):
 * `verified: true` means the figure matches a transcription or a copy of that page found with the docs
 * search, named in `checkedAgainst`; `verified: false` marks an ESTIMATE still to be checked on the page. The cells' regions (sa-east-1, southamerica-east1, eu-west-1, europe-west1) list
 * higher than US regions (São Paulo most; not quantified here) and the model does not add that: read the
 * totals as an order of magnitude, not a quote. Egress, requests, KMS calls, logs and the fixed
 * per-cell services (NAT-free VPC endpoints, Workbench, Glue crawlers) are left out.
 */
import { collectorInstances } from "../../functions/collector/sizing";
import { scaleLimitProblems } from "../../components/config/cell-limits";
import {
  deriveSizing,
  EVENTS_PER_SECOND_PER_DATAFLOW_WORKER,
  ROWS_PER_TRANSACTION,
} from "../../components/config/sizing";
import type { Scale } from "../../components/config/schema";

export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  /** When the source was read. */
  readonly read: string;
  /** Matches a copy or transcription of the source page (true), or is an estimate still to check (false). */
  readonly verified: boolean;
  /** What the figure was checked against (a secondary copy of the page), when verified. */
  readonly checkedAgainst?: string;
  readonly note?: string;
}

export const PRICES = {
  pubsubThroughput: {
    usd: 40,
    unit: "TiB of publish + subscribe throughput",
    source: "https://cloud.google.com/pubsub/pricing",
    read: "2026-12-04",
    verified: true,
    checkedAgainst:
      "https://raw.githubusercontent.com/api-evangelist/google/refs/heads/main/plans/google-plans-pricing.yml (transcribed 2026-09-20)",
    note: "Message Delivery Basic; first 10 GiB a month free (ignored)",
  },
  bigqueryStorageWrite: {
    usd: 0.025,
    unit: "GiB ingested through the Storage Write API",
    source: "https://cloud.google.com/bigquery/pricing#data_ingestion_pricing",
    read: "2026-12-04",
    verified: true,
    checkedAgainst:
      "https://help.nops.io/inform/supported-recommendations/use-bigquery-storage-write-api-instead-of-streaming-inserts.md",
    note: "first 2 TiB a month free (ignored)",
  },
  bigqueryActiveStorage: {
    usd: 0.02,
    unit: "GiB-month of active logical storage",
    source: "https://cloud.google.com/bigquery/pricing#storage",
    read: "2026-12-04",
    verified: true,
    checkedAgainst:
      "https://gist.github.com/bindiego/d84d5b4824d3a84055fd368c8cc8445f (US list prices in a cost query)",
    note: "long-term storage (untouched 90 days) is half; the model keeps everything active",
  },
  cloudRunVcpuSecond: {
    usd: 0.000024,
    unit: "vCPU-second (instance-based billing, tier 1)",
    source: "https://cloud.google.com/run/pricing",
    read: "2026-12-04",
    verified: false,
  },
  cloudRunGibSecond: {
    usd: 0.0000025,
    unit: "GiB-second (instance-based billing, tier 1)",
    source: "https://cloud.google.com/run/pricing",
    read: "2026-12-04",
    verified: false,
  },
  dataflowWorkerHour: {
    usd: 0.069 * 2 + 0.003557 * 8,
    unit: "streaming worker-hour (2 vCPU at $0.069, 8 GB at $0.003557)",
    source: "https://cloud.google.com/dataflow/pricing",
    read: "2026-12-04",
    verified: false,
    note: "Streaming Engine and disk not included",
  },
  dmsDcuHour: {
    usd: 0.2,
    unit: "DMS Serverless DCU-hour (Multi-AZ doubles it)",
    source: "https://aws.amazon.com/dms/pricing/",
    read: "2026-12-04",
    verified: false,
    note: "a secondary page (awsnegotiations.com/dms-serverless-pricing.html, May 2026) gives $0.20-0.25 for popular regions",
  },
  s3Standard: {
    usd: 0.023,
    unit: "GB-month of S3 Standard",
    source: "https://aws.amazon.com/s3/pricing/",
    read: "2026-12-04",
    verified: false,
  },
  glueDpuHour: {
    usd: 0.44,
    unit: "Glue DPU-hour (Spark jobs)",
    source: "https://aws.amazon.com/glue/pricing/",
    read: "2026-12-04",
    verified: false,
  },
} as const satisfies Record<string, Price>;

/**
 * Volumes the model assumes (estimates, no source: measure them once live): bytes of one clickstream event
 * as published and as stored, bytes of one transactional row in Parquet/Iceberg, rows one Glue DPU-hour merges.
 */
export const ASSUMPTIONS = {
  eventBytes: 1_000,
  rowBytes: 200,
  rowsPerGlueDpuHour: 50_000_000,
  /** Days of lake data the storage line carries (a year of steady state; retention may keep more). */
  lakeDays: 365,
} as const;

export interface CostLine {
  readonly component: string;
  readonly quantity: string;
  readonly usdPerMonth: number;
}

export interface CostAt {
  readonly multiple: number;
  readonly scale: Scale;
  /** Cells per jurisdiction the volume needs so that no service limit binds (each takes an equal share). */
  readonly cellsPerJurisdiction: number;
  /** Cells in all. */
  readonly cells: number;
  readonly lines: readonly CostLine[];
  readonly totalUsdPerMonth: number;
}

const HOURS_PER_MONTH = 730;
const DAYS_PER_MONTH = 30.4;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

/** The fewest cells, splitting the volume equally, for which no service limit of a cell binds. */
export function cellsNeeded(scale: Scale, sourcesPerCell: number | undefined, atLeast = 1): number {
  for (let k = atLeast; k < 10_000; k++) {
    const share: Scale = {
      ...scale,
      transactionsPerDay: scale.transactionsPerDay / k,
      clickstreamEventsPerDay: scale.clickstreamEventsPerDay / k,
    };
    if (scaleLimitProblems(share, sourcesPerCell).length === 0) return k;
  }
  throw new Error("no cell count fits");
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

/**
 * Monthly cost of the stack at `multiple` × its scale. Every cell of the stack takes the whole scale
 * (index.ts, cell-limits.ts); when the multiple breaks a limit, the volume is split over more cells.
 * @param scale the stack's `lakehouse:scale`
 * @param cells the stack's cells
 * @param sourcesPerCell transactional sources per cell (they share its transactions)
 * @param clickstreamRetentionDays days BigQuery keeps events (`retention.clickstream`)
 */
export function costAt(
  multiple: number,
  scale: Scale,
  cells: number,
  sourcesPerCell: number,
  clickstreamRetentionDays: number,
): CostAt {
  const grown: Scale = {
    ...scale,
    transactionsPerDay: scale.transactionsPerDay * multiple,
    clickstreamEventsPerDay: scale.clickstreamEventsPerDay * multiple,
  };
  // Every cell takes the whole scale today; growth beyond one cell's limits splits each jurisdiction's
  // volume over `needed` cells.
  const needed = cellsNeeded(grown, sourcesPerCell);
  const perCellShare = 1 / needed;
  const cellCount = cells * needed;
  const share: Scale = {
    ...grown,
    transactionsPerDay: grown.transactionsPerDay * perCellShare,
    clickstreamEventsPerDay: grown.clickstreamEventsPerDay * perCellShare,
  };
  const sizing = deriveSizing(share, sourcesPerCell);
  const collector = collectorInstances({ eventsPerDay: share.clickstreamEventsPerDay, peakFactor: share.peakFactor });
  const eventsPerMonth = share.clickstreamEventsPerDay * DAYS_PER_MONTH * cellCount;
  const rowsPerMonth = share.transactionsPerDay * ROWS_PER_TRANSACTION * DAYS_PER_MONTH * cellCount;
  const eventBytesMonth = eventsPerMonth * ASSUMPTIONS.eventBytes;
  // The collector runs `min` instances at the average rate (collectorInstances: min = average / measured).
  const collectorInstanceHours = collector.min * HOURS_PER_MONTH * cellCount;
  const dataflowWorkers = Math.max(
    1,
    Math.ceil(sizing.eventsPerSecond.average / EVENTS_PER_SECOND_PER_DATAFLOW_WORKER),
  );
  const dcuHours = sizing.dmsCapacity.min * sourcesPerCell * HOURS_PER_MONTH * cellCount * 2; // Multi-AZ in prod
  const lakeGb =
    (share.transactionsPerDay * ROWS_PER_TRANSACTION * ASSUMPTIONS.rowBytes * ASSUMPTIONS.lakeDays * cellCount) / 1e9;
  const bqStoredGiB =
    (share.clickstreamEventsPerDay * ASSUMPTIONS.eventBytes * clickstreamRetentionDays * cellCount) / GiB;
  const lines: CostLine[] = [
    {
      component: "Collector (Cloud Run)",
      quantity: `${fmt(collectorInstanceHours)} instance-h (1 vCPU, 0.5 GiB)`,
      usdPerMonth: collectorInstanceHours * 3600 * (PRICES.cloudRunVcpuSecond.usd + 0.5 * PRICES.cloudRunGibSecond.usd),
    },
    {
      component: "Pub/Sub",
      quantity: `${fmt((2 * eventBytesMonth) / TiB)} TiB`,
      usdPerMonth: ((2 * eventBytesMonth) / TiB) * PRICES.pubsubThroughput.usd,
    },
    {
      component: "Dataflow",
      quantity: `${fmt(dataflowWorkers * cellCount)} workers avg`,
      usdPerMonth: dataflowWorkers * cellCount * HOURS_PER_MONTH * PRICES.dataflowWorkerHour.usd,
    },
    {
      component: "BigQuery ingest + storage",
      quantity: `${fmt(eventBytesMonth / GiB)} GiB/month, ${fmt(bqStoredGiB / 1024)} TiB kept`,
      usdPerMonth:
        (eventBytesMonth / GiB) * PRICES.bigqueryStorageWrite.usd + bqStoredGiB * PRICES.bigqueryActiveStorage.usd,
    },
    {
      component: "DMS Serverless",
      quantity: `${fmt(dcuHours)} DCU-h`,
      usdPerMonth: dcuHours * PRICES.dmsDcuHour.usd,
    },
    {
      component: "Glue MERGE",
      quantity: `${fmt(rowsPerMonth / ASSUMPTIONS.rowsPerGlueDpuHour)} DPU-h`,
      usdPerMonth: (rowsPerMonth / ASSUMPTIONS.rowsPerGlueDpuHour) * PRICES.glueDpuHour.usd,
    },
    {
      component: "S3 lake (a year of rows)",
      quantity: `${fmt(lakeGb / 1000)} TB`,
      usdPerMonth: lakeGb * PRICES.s3Standard.usd,
    },
  ];
  return {
    multiple,
    scale: grown,
    cellsPerJurisdiction: needed,
    cells: cellCount,
    lines,
    totalUsdPerMonth: lines.reduce((s, l) => s + l.usdPerMonth, 0),
  };
}
