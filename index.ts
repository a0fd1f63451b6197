/**
 * ecommerce-lakehouse: one cell per jurisdiction, each a complete, compliant slice of the lakehouse on
 * AWS and GCP. Config is validated as a whole before any resource is declared.
 */
import { Cell } from "./components/cell";
import { cellRetention, deriveSizing, loadConfig } from "./components/config";

const config = loadConfig();

const cells = config.cells.map((cell) => {
  const transactionalSources = config.sources.transactional.filter((s) => s.cell === cell.name).length;
  return new Cell(cell.name, {
    cell,
    config,
    retention: cellRetention(config, cell.name),
    sizing: deriveSizing(config.scale, transactionalSources),
  });
});

export const cellNames = config.cells.map((c) => c.name);
export const lakeBuckets = Object.fromEntries(
  cells.map((c, i) => [
    config.cells[i].name,
    Object.fromEntries(Object.entries(c.aws.buckets).map(([k, b]) => [k, b.name])),
  ]),
);
export const datasets = Object.fromEntries(
  cells.map((c, i) => [
    config.cells[i].name,
    Object.fromEntries(Object.entries(c.gcp.datasets).map(([k, d]) => [k, d.datasetId])),
  ]),
);
export const athenaWorkgroups = Object.fromEntries(cells.map((c, i) => [config.cells[i].name, c.aws.workgroup.name]));
