/**
 * Derive, then declare: the validated stack config becomes one spec per cell (names, tags, sizing, sources,
 * federation choice, retention and erasure budget), a pure step with every choice made and every problem
 * collected, so that `components/cell.ts` only turns the spec into resources. Table-tested in
 * test/config/spec.test.ts.
 */
import { cellTags, type CellTags } from "../../policy/contract";
import { omniLocationOf } from "../federation/limits";
import { erasureBudgetProblems } from "./erasure-budget";
import { JURISDICTIONS, type Jurisdiction } from "./jurisdictions";
import { cellPrefix, NAMESPACE, stackPrefix } from "./namespace";
import type { CellConfig, LakehouseConfig, Retention, Sources, TransactionalSource } from "./schema";
import { deriveSizing, type Sizing } from "./sizing";
import { cellRetention, omniRegionProblems, StackConfigError } from "./validate";

/**
 * How BigQuery reaches the cell's Iceberg lake: BigQuery Omni in the location paired with the cell's AWS
 * region, or an in-country copy where there is none (components/federation/README.md).
 */
export type FederationChoice =
  { readonly mode: "omni"; readonly location: string } | { readonly mode: "in-country-copy" };

/** The names a cell's resources are built from. */
export interface CellNames {
  /** `lakehouse-<environment>`: the start of the physical names the storage, ingestion and key layers make. */
  readonly stack: string;
  /** `lakehouse-<environment>-<cell>`: the start of the clickstream layer's physical names. */
  readonly cell: string;
  /** The session name of the cell's deploy role (shows in the cell account's CloudTrail). */
  readonly deploySession: string;
}

/** Everything a cell declares, decided. */
export interface CellSpec {
  /** The cell's name: the component name its resources are named from (`br`, `eu`). */
  readonly name: string;
  /** The cell's own config entry (regions, account, project, network). */
  readonly cell: CellConfig;
  /** The law the cell's data falls under, with its ceilings and floors. */
  readonly jurisdiction: Jurisdiction;
  readonly names: CellNames;
  /** Tags/labels every resource of the cell carries (through the providers' defaults). */
  readonly tags: CellTags;
  /** Sizes from the scale, the transaction volume shared by the cell's transactional sources. */
  readonly sizing: Sizing;
  /** Retention per data class: the stack default with the cell's overrides laid over it. */
  readonly retention: Retention;
  /** Erasure bounds: the SLA every deletion path is sized from, and BigQuery's time travel within it. */
  readonly erasure: { readonly slaDays: number; readonly timeTravelHours: number };
  readonly federation: FederationChoice;
  /** GCP locations beyond the cell's region that the org policy must allow (the Omni location). */
  readonly extraAllowedLocations: readonly string[];
  /** The cell's transactional sources; empty when the cell ingests none (then no ingestion layer). */
  readonly transactionalSources: readonly TransactionalSource[];
  /** Every source of the cell by kind (`lakehouse:sources`, filtered by `cell`), transactional included. */
  readonly sources: CellSources;
  /** AWS principals of the cell's account made Lake Formation admins (platform engineers). */
  readonly lakeAdmins: readonly string[];
  /** Production: multi-AZ DMS replications. */
  readonly multiAz: boolean;
  /** Protect stateful resources (Pulumi `protect`/`retainOnDelete` and the clouds' deletion protection). */
  readonly protect: boolean;
}

/** A cell's sources: each kind of `lakehouse:sources`, only the entries whose `cell` is this cell. */
export type CellSources = { readonly [K in keyof Sources]: readonly Sources[K][number][] };

/** The entries of every source kind that belong to `cell`. */
export function sourcesOfCell(sources: Sources, cell: string): CellSources {
  return Object.fromEntries(
    Object.entries(sources).map(([kind, list]) => [kind, (list as { cell: string }[]).filter((s) => s.cell === cell)]),
  ) as unknown as CellSources;
}

/** The derivation of one cell: its spec, or the problems that stop it. */
function deriveCell(
  config: LakehouseConfigView,
  cell: CellConfig,
  index: number,
): { readonly spec?: CellSpec; readonly problems: readonly string[] } {
  const at = `${NAMESPACE}:cells[${index}]`;
  const location = omniLocationOf(cell);
  const problems = [
    ...(cell.federation === "omni" ? omniRegionProblems(at, cell.aws.region) : []),
    ...erasureBudgetProblems(config.erasureSlaDays),
  ];
  if (problems.length > 0) return { problems };
  const federation: FederationChoice =
    cell.federation === "omni" ? { mode: "omni", location: location! } : { mode: "in-country-copy" };
  const stack = stackPrefix(config.environment);
  const sources = sourcesOfCell(config.sources, cell.name);
  const transactionalSources = sources.transactional;
  const spec: CellSpec = {
    name: cell.name,
    cell,
    jurisdiction: JURISDICTIONS[cell.jurisdiction],
    names: {
      stack,
      cell: cellPrefix(config.environment, cell.name),
      deploySession: cellPrefix(config.environment, cell.name),
    },
    tags: cellTags({ cell: cell.name, jurisdiction: cell.jurisdiction, environment: config.environment }),
    sizing: deriveSizing(config.scale, transactionalSources.length),
    retention: cellRetention(config, cell.name),
    erasure: { slaDays: config.erasureSlaDays, timeTravelHours: config.bigqueryTimeTravelHours },
    federation,
    extraAllowedLocations: federation.mode === "omni" ? [federation.location] : [],
    transactionalSources,
    sources,
    // Only the platform engineers' principals in the cell's own account administer its catalog; the deploy
    // role is made an administrator by the storage core.
    lakeAdmins: (config.personas.platformEngineers?.awsPrincipals ?? []).filter((arn) =>
      arn.startsWith(`arn:aws:iam::${cell.aws.accountId}:`),
    ),
    multiAz: config.environment === "prod",
    protect: config.protect,
  };
  return { spec, problems: [] };
}

/** The config a spec derives from: the validated config, with or without its secrets as Outputs. */
export type LakehouseConfigView = Pick<
  LakehouseConfig,
  | "environment"
  | "cells"
  | "scale"
  | "retention"
  | "erasureSlaDays"
  | "bigqueryTimeTravelHours"
  | "protect"
  | "sources"
  | "personas"
>;

/**
 * One spec per configured cell, in config order; throws one `StackConfigError` naming `stackFile` with every
 * problem of every cell (none for a config `parseStackConfig` accepted: validation runs the same rules).
 */
export function deriveCellSpecs(config: LakehouseConfigView, stackFile: string): CellSpec[] {
  const derived = config.cells.map((cell, i) => deriveCell(config, cell, i));
  const problems = [...new Set(derived.flatMap((d) => d.problems))];
  if (problems.length > 0) throw new StackConfigError(stackFile, problems);
  return derived.map((d) => d.spec!);
}
