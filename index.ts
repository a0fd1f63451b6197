/**
 * ecommerce-lakehouse: one cell per jurisdiction, each a complete, compliant slice of the lakehouse on
 * AWS and GCP. Config is validated as a whole before any resource is declared.
 */
import { Cell } from "./components/cell";
import { deriveCellSpecs, loadConfig, stackFileName } from "./components/config";

const config = loadConfig();
// Every choice of every cell, made before any resource is declared (components/config/spec.ts).
const specs = deriveCellSpecs(config, stackFileName());

const cells = specs.map((spec) => new Cell(spec.name, { spec, config }));

/** One value per cell, keyed by cell name (the shape every output below takes). */
const perCell = <T>(pick: (cell: Cell) => T): Record<string, T> =>
  Object.fromEntries(cells.map((c, i) => [specs[i].name, pick(c)]));

export const cellNames = specs.map((s) => s.name);
export const lakeBuckets = perCell((c) =>
  Object.fromEntries(Object.entries(c.aws.buckets).map(([k, b]) => [k, b.name])),
);
export const datasets = perCell((c) =>
  Object.fromEntries(Object.entries(c.gcp.datasets).map(([k, d]) => [k, d.datasetId])),
);
export const athenaWorkgroups = perCell((c) => c.aws.workgroup.name);
/** What a person needs after `pulumi up` (docs/first-deploy.md, "Check each layer"). */
export const collectorUrls = perCell((c) => c.clickstream.collector.url);
export const marketingDatasets = perCell((c) => c.clickstream.views.datasetId);
export const vertexEndpoints = perCell((c) => c.clickstream.ml.endpoint.name);
export const featureOnlineStores = perCell((c) => c.clickstream.ml.featureStore.name);
export const workbenchUrls = perCell((c) => c.clickstream.workbench.instances.map((w) => w.proxyUri));
export const eventTopics = perCell((c) => c.clickstream.topic.topicId);
/** The VPC the sources' network path must reach (docs/first-deploy.md, step 4); none without sources. */
export const ingestionVpcs = perCell((c) => c.ingestion?.network.vpcId ?? null);
