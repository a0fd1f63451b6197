/**
 * Turns the raw stack config (`ns:key` -> string, as the Pulumi runtime holds it) into a typed
 * `LakehouseConfig`, or one `StackConfigError` that lists every problem with its key and stack file.
 * Pure: no Pulumi runtime needed, so it is table-tested directly.
 */
import { z } from "zod";
import { connectorJarProblem } from "../../functions/nosql-extract/cloud-config";
import { PROJECT_ROOT } from "../project-root";
import { defaultTableNames } from "../../functions/cdc-merge/merge-sql";
import { parseTableSpec, RESERVED_PREFIX, type CdcTableSpec } from "../../functions/cdc-merge/spec";
import { erasureBudget, shortestErasureSla } from "../../policy/contract";
import {
  BIGQUERY_FAIL_SAFE_DAYS,
  DATA_CLASSES,
  JURISDICTIONS,
  OMNI_AWS_REGIONS,
  TIME_TRAVEL_HOURS,
  type DataClass,
  type JurisdictionId,
} from "./jurisdictions";
import { AWS_REGIONS, GCP_REGIONS, REQUIRED_AWS_PRODUCTS, REQUIRED_GCP_PRODUCTS } from "./regions";
import {
  curatedSchemaProblems,
  curatedTableName,
  mergeColumns,
  parsePartition,
  sslModeFor,
} from "../aws/ingestion/plan-rules";
import { omniTransferProblems } from "../federation/limits";
import { nosqlErasureProblems } from "../aws/sources/nosql-rules";
import { kafkaProblems } from "../aws/sources/kafka/config-rules";
import {
  ORDERS_CUSTOMER_PSEUDONYM,
  PSEUDONYMISABLE_TYPES,
  lakehouseSchema,
  scaleSchema,
  type LakehouseConfig,
  type Retention,
  type TableConfig,
} from "./schema";
import { longestBucketName, S3_BUCKET_NAME_MAX } from "../aws/bucket-names";
import { cidrOverlaps, isCidr, parseCidr, type Cidr } from "./cidr";
import { scaleLimitProblems } from "./cell-limits";
import { erasureBoundProblems, erasureBudgetProblems, type CellErasureView } from "./erasure-budget";
import { cellPrefix, NAMESPACE } from "./namespace";

export { NAMESPACE };

export class StackConfigError extends Error {
  constructor(
    readonly stackFile: string,
    readonly problems: readonly string[],
  ) {
    super(
      `Invalid stack config in ${stackFile} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        `\nFix the keys above (pulumi config set [--secret] [--path] <key> <value>) and run again; ` +
        `no resource was declared.`,
    );
    this.name = "StackConfigError";
  }
}

/** Parses a config value the way Pulumi stores it: objects/arrays/numbers/booleans as JSON, strings raw. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function keyPath(path: readonly PropertyKey[]): string {
  const [top, ...rest] = path;
  let out = `${NAMESPACE}:${String(top)}`;
  for (const p of rest) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}

/**
 * Namespaces of the providers this program uses (`aws:region`...) and Pulumi's own (`pulumi:tags`); any other
 * namespace is a typo of `lakehouse:`.
 */
export const PROVIDER_NAMESPACES: readonly string[] = ["aws", "gcp", "random", "pulumi"];

/** Levenshtein distance, for "did you mean" on misspelled keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

function suggest(key: string, known: readonly string[]): string {
  const best = known.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean '${NAMESPACE}:${best.k}'?)` : "";
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_value") {
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return `is required`;
  }
  return issue.message.replace(/^Invalid input: /, "");
}

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
/**
 * Own properties only: config names are looked up in objects, and `credentials: constructor` or a region
 * named `toString` must not be found on `Object.prototype`.
 */
const own = <T>(o: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(o, key) ? o[key] : undefined;

/**
 * Rules across fields (residency, legal bounds, references). Runs on the raw values defensively so
 * that they are reported together with structural problems, not after the user fixed those.
 */
function crossFieldProblems(lh: Raw): string[] {
  const problems: string[] = [];
  const cells = arr(lh.cells);
  const names = new Map<string, number>();
  const projects = new Map<string, number>();
  const jurisdictionsInUse = new Set<JurisdictionId>();
  const retention = isObj(lh.retention) ? lh.retention : {};

  cells.forEach((cell, i) => {
    if (!isObj(cell)) return;
    const at = `${NAMESPACE}:cells[${i}]`;
    const cellName = str(cell.name);
    if (cellName !== undefined) {
      const first = names.get(cellName);
      if (first !== undefined) problems.push(`${at}.name: duplicate cell name '${cellName}' (also cells[${first}])`);
      else names.set(cellName, i);
    }
    problems.push(...deployRoleProblems(cell, at));
    problems.push(...bucketNameProblems(lh.environment, cellName, cell.aws, at));
    problems.push(...networkProblems(cell.network, at));
    const project = isObj(cell.gcp) ? str(cell.gcp.project) : undefined;
    if (project !== undefined) {
      const first = projects.get(project);
      // One project holds one cell: the project's resource-location policy, its enabled APIs and its
      // service agents are the cell's, and two cells would fight over them (and over residency).
      if (first !== undefined)
        problems.push(
          `${at}.gcp.project: '${project}' is already the project of cells[${first}]; every cell needs its own GCP project ` +
            `(one resource-location policy and one set of service agents per project)`,
        );
      else projects.set(project, i);
    }
    const jid = str(cell.jurisdiction);
    if (jid !== "br" && jid !== "eu") return;
    const j = JURISDICTIONS[jid];
    jurisdictionsInUse.add(jid);
    const awsRegion = isObj(cell.aws) ? str(cell.aws.region) : undefined;
    const gcpRegion = isObj(cell.gcp) ? str(cell.gcp.region) : undefined;
    if (awsRegion !== undefined && !j.awsRegions.includes(awsRegion)) {
      problems.push(
        `${at}.aws.region: '${awsRegion}' is outside jurisdiction '${jid}' (${j.law}); allowed: ${j.awsRegions.join(", ")}`,
      );
    }
    if (gcpRegion !== undefined && !j.gcpRegions.includes(gcpRegion)) {
      problems.push(
        `${at}.gcp.region: '${gcpRegion}' is outside jurisdiction '${jid}' (${j.law}); allowed: ${j.gcpRegions.join(", ")}`,
      );
    }
    // Only regions the jurisdiction allows: one outside it is already reported above.
    const allowed = (r: string | undefined, list: readonly string[]) =>
      r !== undefined && list.includes(r) ? r : undefined;
    problems.push(
      ...regionTableProblems(at, allowed(awsRegion, j.awsRegions), allowed(gcpRegion, j.gcpRegions), lh.workbench),
    );
    if (str(cell.federation) === "omni" && awsRegion !== undefined) problems.push(...omniRegionProblems(at, awsRegion));
    const overrides = isObj(cell.retention) ? cell.retention : {};
    for (const [cls, ceiling] of Object.entries(j.retentionCeilingDays) as [DataClass, number][]) {
      const own = num(overrides[cls]);
      const days = own ?? num(retention[cls]);
      const where = own !== undefined ? `${at}.retention.${cls}` : `${NAMESPACE}:retention.${cls}`;
      if (days !== undefined && days > ceiling) {
        problems.push(
          `${where}: ${days} days exceeds the ${j.law} ceiling of ${ceiling} days for '${cls}' data in cell '${cellName ?? i}'`,
        );
      }
    }
    const audit = num(overrides.audit) ?? num(retention.audit);
    if (audit !== undefined && audit > 0 && audit < j.auditFloorDays) {
      problems.push(
        `${NAMESPACE}:retention.audit: ${audit} days is below the ${j.law} minimum of ${j.auditFloorDays} days for audit logs in cell '${cellName ?? i}'`,
      );
    }
  });

  const sla = num(lh.erasureSlaDays);
  if (sla !== undefined && sla > 0) problems.push(...erasureBudgetProblems(sla));
  for (const jid of jurisdictionsInUse) {
    const j = JURISDICTIONS[jid];
    if (sla !== undefined && sla > j.erasureSlaCeilingDays) {
      problems.push(
        `${NAMESPACE}:erasureSlaDays: ${sla} days exceeds the ${j.law} limit of ${j.erasureSlaCeilingDays} days`,
      );
    }
  }
  const tt = num(lh.bigqueryTimeTravelHours);
  if (tt !== undefined) {
    if (tt < TIME_TRAVEL_HOURS.min || tt > TIME_TRAVEL_HOURS.max || tt % TIME_TRAVEL_HOURS.step !== 0) {
      problems.push(
        `${NAMESPACE}:bigqueryTimeTravelHours: ${tt} is not allowed by BigQuery (48 to 168, a multiple of 24)`,
      );
    } else if (sla !== undefined && tt / 24 > erasureBudget(sla).timeTravelDays) {
      // The pack's bound (policy/contract/erasure.ts): the live delete, then time travel, then BigQuery's
      // fixed fail-safe, all inside the SLA; with the 48-hour minimum that needs an SLA of 10 days or more.
      problems.push(
        `${NAMESPACE}:bigqueryTimeTravelHours: ${tt} hours of time travel, after a day for the live delete and before ` +
          `BigQuery's ${BIGQUERY_FAIL_SAFE_DAYS}-day fail-safe, keeps erased rows longer than the erasure SLA of ${sla} ` +
          `days (erasureSlaDays ${shortestErasureSla("timeTravelDays", tt / 24)} or more fits it)`,
      );
    }
  }
  problems.push(...cellErasureProblems(lh, cells, retention, sla, tt));

  const sources = isObj(lh.sources) ? lh.sources : {};
  const creds = isObj(lh.sourceCredentials) ? lh.sourceCredentials : {};
  // Source names name resources in their cell (`<cell>-ingestion-<source>`) and raw prefixes: unique per
  // cell across every kind, or the program declares the same URNs twice.
  const sourceNames = new Map<string, string>();
  // Curated tables are `<source>_<table>` in the cell's one Glue database.
  const curated = new Map<string, string>();
  for (const [kind, list] of Object.entries(sources)) {
    arr(list).forEach((src, i) => {
      if (!isObj(src)) return;
      const at = `${NAMESPACE}:sources.${kind}[${i}]`;
      const sourceName = str(src.name);
      if (sourceName !== undefined) {
        const key = `${str(src.cell) ?? ""}/${sourceName}`;
        const first = sourceNames.get(key);
        if (first !== undefined)
          problems.push(
            `${at}.name: duplicate source name '${sourceName}' in cell '${str(src.cell) ?? "?"}' (also ${first}); ` +
              `names are unique per cell across every kind of source`,
          );
        else sourceNames.set(key, `sources.${kind}[${i}]`);
      }
      const cellRef = str(src.cell);
      if (cellRef !== undefined && !names.has(cellRef)) {
        problems.push(
          `${at}.cell: '${cellRef}' is not a configured cell (cells: ${[...names.keys()].join(", ") || "none"})`,
        );
      }
      if (kind === "transactional") {
        arr(src.tables).forEach((t, j) => {
          const here = `${at}.tables[${j}]`;
          problems.push(...tableProblems(t, here));
          const tableName = isObj(t) ? str(t.name) : undefined;
          if (!isObj(t) || sourceName === undefined || tableName === undefined) return;
          // The merge's tombstone and ledger tables sit beside each curated table in the same database
          // (components/aws/ingestion/transactional-ingestion.ts), so their names may collide too.
          const main = curatedTableName(sourceName, { name: tableName } as TableConfig);
          const side = defaultTableNames({ name: main } as CdcTableSpec);
          const names: string[] = [side.table, side.tombstones, side.ledger];
          for (const glueName of names) {
            const first = curated.get(`${str(src.cell) ?? ""}/${glueName}`);
            if (first === undefined) continue;
            problems.push(
              `${here}: '${str(t.schema) ?? "?"}.${tableName}' maps to the curated table ${glueName} like ${first} ` +
                `(the same table twice, or names that collide)`,
            );
            break;
          }
          for (const glueName of names) {
            const key = `${str(src.cell) ?? ""}/${glueName}`;
            if (!curated.has(key)) curated.set(key, here.slice(NAMESPACE.length + 1));
          }
        });
        problems.push(...sourceTrustProblems(src, at));
      }
      if (kind === "cassandra" || kind === "elasticsearch") {
        problems.push(...nosqlErasureProblems(src, at, num(lh.erasureSlaDays)));
        const jar = str(src.connectorJar);
        // A path that is not a .jar is already the schema's problem (one message per key).
        if (kind === "cassandra" && jar?.endsWith(".jar")) {
          const problem = connectorJarProblem(jar, PROJECT_ROOT);
          if (problem !== undefined) problems.push(`${at}.connectorJar: ${problem}`);
        }
        // A Glue connection names one subnet and its availability zone; a VPC this program did not create
        // does not tell its subnets' zones to the plan (components/aws/sources/nosql-extract-parts.ts).
        const cellIndex = cells.findIndex((c) => isObj(c) && c.name === src.cell);
        const cellConfig = cells[cellIndex];
        if (isObj(cellConfig) && isObj(cellConfig.network) && cellConfig.network.vpcId !== undefined)
          problems.push(
            `${at}: cell '${String(src.cell)}' runs in an existing VPC (${NAMESPACE}:cells[${cellIndex}].network.vpcId); ` +
              `${kind} extraction runs only in the ingestion VPC this program creates (drop vpcId, or move the source to another cell)`,
          );
      }
      const cred = str(src.credentials);
      if (cred !== undefined && own(creds, cred) === undefined) {
        problems.push(
          `${at}.credentials: no entry '${cred}' in ${NAMESPACE}:sourceCredentials ` +
            `(pulumi config set --path '${NAMESPACE}:sourceCredentials.${cred}.username' <user>; ` +
            `pulumi config set --secret --path '${NAMESPACE}:sourceCredentials.${cred}.password' <password>)`,
        );
      }
    });
  }

  // Event streams: what each mode needs, the topics' tables, and the limits the scale exceeds (ADR 0011).
  problems.push(...kafkaProblems(lh));

  // Every cell deploys the collector (components/cell.ts), which refuses every write without a key.
  if (cells.length > 0 && writeKeyCount(lh.collectorWriteKeys) === 0) {
    problems.push(
      `${NAMESPACE}:collectorWriteKeys: is required: every cell deploys the clickstream collector, which accepts no ` +
        `event without a write key (pulumi config set --secret ${NAMESPACE}:collectorWriteKeys '<key1>,<key2>')`,
    );
  }

  const scale = scaleSchema.safeParse(lh.scale);
  if (scale.success) {
    const perCell = new Map<string, number>();
    for (const src of arr(sources.transactional).filter(isObj)) {
      const c = str(src.cell) ?? "";
      perCell.set(c, (perCell.get(c) ?? 0) + 1);
    }
    // Sizing divides the transactions over a cell's sources: the cell with the fewest sources is the tightest.
    const fewest = perCell.size > 0 ? Math.min(...perCell.values()) : undefined;
    problems.push(...scaleLimitProblems(scale.data, fewest));
    cells.forEach((cell, i) => {
      if (!isObj(cell) || str(cell.federation) !== "omni") return;
      problems.push(...omniTransferProblems(`cells[${i}]`, scale.data));
    });
  }
  return problems;
}

/**
 * S3 bucket names are global and at most 63 characters; a cell's are `lakehouse-<env>-<cell>-<purpose>-
 * <account>` (components/aws/bucket-names.ts), so the environment and the cell name share what is left.
 * Without this check a long cell name passes validation and fails at the first bucket of `pulumi up`.
 */
function bucketNameProblems(environment: unknown, cellName: string | undefined, aws: unknown, at: string): string[] {
  const env = str(environment);
  const accountId = isObj(aws) ? str(aws.accountId) : undefined;
  if (env === undefined || cellName === undefined || accountId === undefined) return [];
  const longest = longestBucketName(cellPrefix(env, cellName), accountId);
  if (longest.length <= S3_BUCKET_NAME_MAX) return [];
  return [
    `${at}.name: '${cellName}' makes the S3 bucket name '${longest}' ${longest.length} characters long with ` +
      `environment '${env}'; S3 allows ${S3_BUCKET_NAME_MAX} (use a cell name of at most ` +
      `${cellName.length - (longest.length - S3_BUCKET_NAME_MAX)} characters)`,
  ];
}

/** A cell with `federation: omni` needs a BigQuery Omni location paired with its AWS region. */
export function omniRegionProblems(at: string, awsRegion: string): string[] {
  if (own(OMNI_AWS_REGIONS, awsRegion) !== undefined) return [];
  return [
    `${at}.federation: 'omni' needs a BigQuery Omni region for AWS '${awsRegion}', and there is none ` +
      `(Omni regions: ${Object.keys(OMNI_AWS_REGIONS).join(", ")}); use 'in-country-copy'`,
  ];
}

/** Write keys as the schema reads them: a comma-separated string or a list. */
function writeKeyCount(v: unknown): number {
  if (typeof v === "string") return v.split(",").filter((k) => k.trim().length > 0).length;
  return arr(v).length;
}

/**
 * The ingestion network's CIDRs, parsed exactly (components/config/cidr.ts), and the VPC's range apart from
 * the sources' networks: DMS reaches a source through the VPC's route table, and a destination inside the
 * VPC's own CIDR takes the `local` route and never leaves the VPC.
 */
function networkProblems(network: unknown, at: string): string[] {
  if (!isObj(network)) return [];
  const problems: string[] = [];
  const vpcText = str(network.vpcCidr);
  let vpc: Cidr | undefined;
  if (vpcText !== undefined) {
    const parsed = parseCidr(vpcText);
    if (isCidr(parsed)) vpc = parsed;
    // A prefix outside /16-/24 is reported by the schema's pattern.
    else if (/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/.test(vpcText))
      problems.push(`${at}.network.vpcCidr: ${parsed.problem}`);
  }
  arr(network.sourceCidrs).forEach((c, k) => {
    const text = str(c);
    if (text === undefined) return;
    const parsed = parseCidr(text);
    if (!isCidr(parsed)) {
      problems.push(`${at}.network.sourceCidrs[${k}]: ${parsed.problem}`);
      return;
    }
    // Without vpcCidr the VPC is 10.80.0.0/22 (components/aws/ingestion/transactional-ingestion.ts).
    const effective = vpc ?? (vpcText === undefined ? DEFAULT_VPC : undefined);
    if (effective !== undefined && cidrOverlaps(effective, parsed))
      problems.push(
        `${at}.network.sourceCidrs[${k}]: '${text}' overlaps the ingestion VPC ${vpcText ?? `${DEFAULT_VPC_TEXT} (the default vpcCidr)`}; ` +
          `traffic to it would stay inside the VPC: choose a vpcCidr outside the sources' networks`,
      );
  });
  return problems;
}

const DEFAULT_VPC_TEXT = "10.80.0.0/22";
const DEFAULT_VPC = parseCidr(DEFAULT_VPC_TEXT) as Cidr;

/**
 * A cell's regions and the Workbench zone against the table of what exists where
 * (components/config/regions.ts): a zone that does not exist passes every offline check and fails at `up`.
 */
function regionTableProblems(
  at: string,
  awsRegion: string | undefined,
  gcpRegion: string | undefined,
  workbench: unknown,
): string[] {
  const problems: string[] = [];
  const table = "components/config/regions.ts";
  if (awsRegion !== undefined) {
    const facts = own(AWS_REGIONS, awsRegion);
    if (facts === undefined)
      problems.push(`${at}.aws.region: '${awsRegion}' has no zone and product table in ${table}`);
    else {
      const missing = REQUIRED_AWS_PRODUCTS.filter((p) => !facts.products.includes(p));
      if (missing.length > 0)
        problems.push(
          `${at}.aws.region: ${missing.join(", ")} not available or not verified in '${awsRegion}' (${table})`,
        );
    }
  }
  if (gcpRegion !== undefined) {
    const facts = own(GCP_REGIONS, gcpRegion);
    if (facts === undefined)
      problems.push(`${at}.gcp.region: '${gcpRegion}' has no zone and product table in ${table}`);
    else {
      const missing = REQUIRED_GCP_PRODUCTS.filter((p) => !facts.products.includes(p));
      if (missing.length > 0)
        problems.push(
          `${at}.gcp.region: ${missing.join(", ")} not available or not verified in '${gcpRegion}' (${table})`,
        );
      const suffix = isObj(workbench) ? str(workbench.zoneSuffix) : undefined;
      if (suffix !== undefined && /^[a-z]$/.test(suffix) && !facts.zones.includes(suffix)) {
        problems.push(
          `${NAMESPACE}:workbench.zoneSuffix: zone '${gcpRegion}-${suffix}' does not exist (cell ${at.slice(NAMESPACE.length + 1)}); ` +
            `${gcpRegion} has zones ${facts.zones.join(", ")}`,
        );
      }
    }
  }
  return problems;
}

/**
 * The cell's deploy role must live in the cell's account: the cell's provider assumes it and refuses any
 * other account (`allowedAccountIds`), so a role elsewhere fails every call of the first `up`.
 */
function deployRoleProblems(cell: Raw, at: string): string[] {
  const aws = isObj(cell.aws) ? cell.aws : {};
  const account = str(aws.accountId);
  const roleAccount = /^arn:aws:iam::(\d{12}):role\//.exec(str(aws.deployRoleArn) ?? "")?.[1];
  if (account === undefined || roleAccount === undefined || roleAccount === account) return [];
  return [
    `${at}.aws.deployRoleArn: the role is in account ${roleAccount}, but the cell deploys into ${account} ` +
      `(cells[].aws.accountId); use the deploy role created in ${account}`,
  ];
}

/**
 * The CA a transactional source's TLS is verified against, in the form DMS takes for its engine: Oracle
 * endpoints verify only against an Oracle wallet ("SSL support for an Oracle endpoint": "upload the Oracle
 * wallet for the endpoint instead of .pem certificate files", docs.aws.amazon.com/dms/latest/userguide/CHAP_Source.Oracle.html);
 * MySQL and SQL Server against a PEM.
 */
function sourceTrustProblems(src: Raw, at: string): string[] {
  const engine = str(src.engine);
  const problems: string[] = [];
  if (engine === "oracle") {
    if (src.caCertificatePem !== undefined)
      problems.push(
        `${at}.caCertificatePem: DMS does not accept a PEM for Oracle; build an auto-login Oracle wallet with the CA ` +
          `(orapki wallet add -wallet <dir> -trusted_cert -cert ca.pem -auto_login_only) and set caCertificateWallet ` +
          `to the base64 of its cwallet.sso`,
      );
    else if (src.caCertificateWallet === undefined)
      problems.push(
        `${at}.caCertificateWallet: is required for engine oracle: DMS encrypts Oracle connections only with ` +
          `verify-ca against an Oracle wallet holding the source's CA (base64 of cwallet.sso)`,
      );
  } else if (engine === "mysql" && src.caCertificatePem === undefined && src.caCertificateWallet === undefined) {
    problems.push(
      `${at}.caCertificatePem: is required for engine mysql: DMS offers MySQL no encrypted mode without verifying the ` +
        `server (verify-full), which needs the PEM of the CA that signed the source's certificate`,
    );
  } else if ((engine === "mysql" || engine === "sqlserver") && src.caCertificateWallet !== undefined) {
    problems.push(
      `${at}.caCertificateWallet: an Oracle wallet is only for engine oracle; give ${engine} its CA as caCertificatePem`,
    );
  }
  return problems;
}

/** A transactional table's pseudonyms: names that cannot clash, sources that exist, and the orders join key. */
function tableProblems(t: unknown, at: string): string[] {
  if (!isObj(t)) return [];
  const problems: string[] = [];
  const lower = (v: unknown): string | undefined => str(v)?.toLowerCase();
  const declared = new Map(
    arr(t.columns)
      .filter(isObj)
      .map((c) => [lower(c.name) ?? "", str(c.type)] as const),
  );
  const pii = new Set(arr(t.piiColumns).map(lower));
  const derived = new Set<string>();
  arr(t.pseudonymise).forEach((p, k) => {
    if (!isObj(p)) return;
    const column = lower(p.column);
    const as = lower(p.as);
    const here = `${at}.pseudonymise[${k}]`;
    if (as !== undefined) {
      if (declared.has(as) || derived.has(as) || as === column)
        problems.push(`${here}.as: '${as}' is already a column of the table`);
      if (as.startsWith(RESERVED_PREFIX))
        problems.push(`${here}.as: the prefix ${RESERVED_PREFIX} is reserved for the CDC merge`);
      derived.add(as);
    }
    if (column === undefined || declared.size === 0) return;
    const type = declared.get(column);
    if (type === undefined && !pii.has(column)) {
      problems.push(`${here}.column: '${column}' is neither in columns nor in piiColumns`);
    } else if (type !== undefined && !PSEUDONYMISABLE_TYPES.includes(type)) {
      problems.push(
        `${here}.column: '${column}' is ${type}; pseudonymise ${PSEUDONYMISABLE_TYPES.join(", ")} columns (their text is the same in every engine)`,
      );
    }
  });
  problems.push(...tableShapeProblems(t, at, declared, pii));
  if (lower(t.name) === "orders" && !derived.has(ORDERS_CUSTOMER_PSEUDONYM)) {
    problems.push(
      `${at}.pseudonymise: the orders table feeds the marts, which join on ${ORDERS_CUSTOMER_PSEUDONYM}; ` +
        `add { column: <customer id column>, as: ${ORDERS_CUSTOMER_PSEUDONYM} }`,
    );
  }
  if (lower(t.name) === "orders") problems.push(...ordersFeedProblems(t, at));
  return problems;
}

/**
 * The daily orders feed selects the order timestamp (the first time partition's source, else `created_at`)
 * and the customer pseudonym (components/federation/sql.ts `ordersTableOf`); marts stay PII-free, so
 * neither may be a direct identifier. A partition source in piiColumns is reported by tableShapeProblems.
 */
function ordersFeedProblems(t: Raw, at: string): string[] {
  const problems: string[] = [];
  // The same pattern as ordersTableOf, so both pick the same column.
  const timePartition = arr(t.partitionBy).some((p) =>
    /^(?:day|hour|month|year)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.test(str(p) ?? ""),
  );
  arr(t.piiColumns).forEach((c, k) => {
    const name = str(c)?.toLowerCase();
    if (name === ORDERS_CUSTOMER_PSEUDONYM || (!timePartition && name === "created_at"))
      problems.push(
        `${at}.piiColumns[${k}]: '${name}' is selected by the daily orders feed into the PII-free marts ` +
          `(${name === "created_at" ? "the order timestamp when no time partition names one" : "the join key"}), so it cannot be a direct identifier`,
      );
  });
  return problems;
}

/**
 * The curated table a transactional table becomes (components/aws/ingestion/plan-rules.ts `curatedSchema`):
 * its keys and partition sources must be columns that reach it, so they can be neither direct identifiers
 * (`piiColumns`) nor dropped (`excludeColumns`); a declared column appears once.
 */
function tableShapeProblems(
  t: Raw,
  at: string,
  declared: ReadonlyMap<string, string | undefined>,
  pii: ReadonlySet<string | undefined>,
): string[] {
  const problems: string[] = [];
  const lower = (v: unknown): string | undefined => str(v)?.toLowerCase();
  const excluded = new Set(arr(t.excludeColumns).map(lower));
  const seen = new Set<string>();
  arr(t.columns).forEach((c, k) => {
    const name = isObj(c) ? lower(c.name) : undefined;
    if (name === undefined) return;
    if (seen.has(name)) problems.push(`${at}.columns[${k}].name: '${name}' is declared twice`);
    // The merge adds its own columns to every curated table (functions/cdc-merge/spec.ts HIDDEN_COLUMNS).
    else if (name.startsWith(RESERVED_PREFIX))
      problems.push(`${at}.columns[${k}].name: the prefix ${RESERVED_PREFIX} is reserved for the CDC merge`);
    seen.add(name);
  });
  const keys = new Set<string>();
  arr(t.keys).forEach((key, k) => {
    const name = lower(key);
    if (name === undefined) return;
    keys.add(name);
    if (declared.size > 0 && !declared.has(name))
      problems.push(`${at}.keys[${k}]: '${name}' is not in columns (a key column must be declared with its type)`);
  });
  const partitionSources = new Map<string, string>();
  arr(t.partitionBy).forEach((spec, k) => {
    const text = str(spec);
    if (text === undefined) return;
    let field: ReturnType<typeof parsePartition>;
    try {
      field = parsePartition(text);
    } catch (e) {
      problems.push(`${at}.partitionBy[${k}]: ${(e as Error).message}`);
      return;
    }
    const column = field.column.toLowerCase();
    partitionSources.set(column, `partitionBy[${k}]`);
    const type = declared.get(column);
    if (declared.size > 0 && !declared.has(column))
      problems.push(`${at}.partitionBy[${k}]: partition source '${column}' is not in columns`);
    else if (type !== undefined && TIME_TRANSFORMS.has(field.transform) && !DATE_TYPES.has(type))
      problems.push(
        `${at}.partitionBy[${k}]: ${field.transform}(${column}) needs a date or timestamp column, not ${type}`,
      );
  });
  for (const [list, set] of [
    ["piiColumns", pii],
    ["excludeColumns", excluded],
  ] as const) {
    arr(t[list]).forEach((c, k) => {
      const name = lower(c);
      if (name === undefined || !set.has(name)) return;
      if (keys.has(name))
        problems.push(
          `${at}.${list}[${k}]: '${name}' is a key column; keys stay in the curated table (the merge matches rows ` +
            `on them), so a key cannot be ${list === "piiColumns" ? "a direct identifier: key the table on a surrogate id, or pseudonymise" : "dropped"}`,
        );
      else if (partitionSources.has(name))
        problems.push(
          `${at}.${list}[${k}]: '${name}' is the source of ${partitionSources.get(name)}, so it must reach the curated table`,
        );
    });
  }
  return problems;
}

const TIME_TRANSFORMS = new Set(["year", "month", "day", "hour"]);
const DATE_TYPES = new Set(["date", "timestamp", "timestamptz"]);

/**
 * Secrets that are not secret: a key Pulumi does not report as secret was written to the stack file in plain
 * text (`pulumi config set` without `--secret`), and is stored in plain text in the state too. Pulumi marks
 * a structured key secret when any value in it is `secure:` (the whole `sourceCredentials` object is then
 * decrypted for the program), so this is per top-level key, as the program sees it.
 * @param secretKeys the keys Pulumi reports as secret (`pulumi.runtime` in a real run, the stack file offline)
 */
function plainSecretProblems(lh: Raw, secretKeys: readonly string[]): string[] {
  const problems: string[] = [];
  const isSecret = (key: string) => secretKeys.includes(`${NAMESPACE}:${key}`);
  if (!isSecret("collectorWriteKeys") && writeKeyCount(lh.collectorWriteKeys) > 0) {
    problems.push(
      `${NAMESPACE}:collectorWriteKeys: is in plain text in the stack file; set it as a secret: ` +
        `pulumi config set --secret ${NAMESPACE}:collectorWriteKeys '<key1>,<key2>'`,
    );
  }
  if (!isSecret("sourceCredentials") && isObj(lh.sourceCredentials)) {
    for (const [name, cred] of Object.entries(lh.sourceCredentials)) {
      if (!isObj(cred) || cred.password === undefined) continue;
      problems.push(
        `${NAMESPACE}:sourceCredentials.${name}.password: is in plain text in the stack file; set it as a secret: ` +
          `pulumi config set --secret --path '${NAMESPACE}:sourceCredentials.${name}.password' <password>`,
      );
    }
  }
  return problems;
}

/**
 * Runs the rules the ingestion components apply to a validated config (TLS mode, curated schema, merge spec),
 * so that a config problem one of them would throw on is reported here with its key and the stack file,
 * never as a stack trace from inside a component. The explicit checks above report these first; this is the
 * net for any rule they miss (a table already reported is not reported again).
 */
function componentRuleProblems(config: LakehouseConfig, reported: readonly string[]): string[] {
  const problems: string[] = [];
  config.sources.transactional.forEach((source, i) => {
    const at = `${NAMESPACE}:sources.transactional[${i}]`;
    const run = (where: string, rule: () => unknown) => {
      if (reported.some((p) => p.startsWith(where))) return;
      try {
        rule();
      } catch (e) {
        problems.push(`${where}: ${(e as Error).message}`);
      }
    };
    run(at, () => sslModeFor(source));
    source.tables.forEach((table, j) => {
      const where = `${at}.tables[${j}]`;
      if (reported.some((p) => p.startsWith(where))) return;
      // Every problem of the curated schema, not only the first it would throw on.
      const shape = curatedSchemaProblems(table);
      problems.push(...shape.map((p) => `${where}: ${p}`));
      if (shape.length > 0) return;
      run(where, () =>
        parseTableSpec({
          name: curatedTableName(source.name, table),
          keyColumns: table.keys.map((k) => k.toLowerCase()),
          ...mergeColumns(table),
        }),
      );
    });
  });
  return problems;
}

/**
 * Every cell's stores against the erasure SLA (components/config/erasure-budget.ts), from the raw values, so
 * that they are reported with the other problems; skipped while a number they need is missing or invalid.
 */
function cellErasureProblems(
  lh: Raw,
  cells: readonly unknown[],
  retention: Raw,
  sla: number | undefined,
  tt: number | undefined,
): string[] {
  // An SLA too short for Iceberg maintenance is reported on its own; every store would be over it too.
  if (sla === undefined || sla <= 0 || erasureBudgetProblems(sla).length > 0) return [];
  const sources = isObj(lh.sources) ? lh.sources : {};
  const problems: string[] = [];
  cells.forEach((cell, i) => {
    if (!isObj(cell) || str(cell.name) === undefined) return;
    const name = str(cell.name)!;
    const overrides = isObj(cell.retention) ? cell.retention : {};
    const days = DATA_CLASSES.map((c) => num(overrides[c]) ?? num(retention[c]));
    if (days.some((d) => d === undefined || d <= 0)) return;
    const ofCell = (kind: string) => arr(sources[kind]).filter((s) => isObj(s) && s.cell === name);
    const view: CellErasureView = {
      name,
      retention: Object.fromEntries(DATA_CLASSES.map((c, k) => [c, days[k]!])) as Record<DataClass, number>,
      // An invalid time travel is reported on its own key; the bound then uses BigQuery's shortest.
      erasure: { slaDays: sla, timeTravelHours: tt ?? TIME_TRAVEL_HOURS.min },
      federation: { mode: str(cell.federation) === "omni" ? "omni" : "in-country-copy" },
      sources: {
        kafka: ofCell("kafka").map((k) => ({ mode: str((k as Raw).mode) ?? "msk-provisioned" })),
        apis: ofCell("apis"),
        csvFeeds: ofCell("csvFeeds"),
      },
    };
    const keyOf = (key: string) =>
      key.startsWith("retention.") && num(overrides[key.slice("retention.".length)]) !== undefined
        ? `${NAMESPACE}:cells[${i}].${key}`
        : `${NAMESPACE}:${key}`;
    problems.push(...erasureBoundProblems(view, keyOf));
  });
  return problems;
}

/**
 * Validates the whole raw config map.
 * @param raw every config key the program sees, `ns:key` -> string value
 * @param stackFile the file named in messages, e.g. `Pulumi.dev.yaml`
 */
export function parseStackConfig(
  raw: Readonly<Record<string, string>>,
  stackFile: string,
  secretKeys?: readonly string[],
): LakehouseConfig {
  const lh: Raw = {};
  const problems: string[] = [];
  const known = Object.keys(lakehouseSchema.shape);
  for (const [fullKey, value] of Object.entries(raw)) {
    const sep = fullKey.indexOf(":");
    const namespace = sep < 0 ? "" : fullKey.slice(0, sep);
    const key = fullKey.slice(sep + 1);
    if (namespace !== NAMESPACE) {
      // Pulumi hands the program every key of the stack file; a key in a misspelt namespace
      // (`lakehose:sources`) would otherwise be ignored and its whole setting silently dropped.
      if (!PROVIDER_NAMESPACES.includes(namespace)) {
        problems.push(
          `${fullKey}: unknown namespace '${namespace}'; this program reads '${NAMESPACE}:' keys ` +
            `(and the providers' ${PROVIDER_NAMESPACES.map((n) => `'${n}:'`).join(", ")})${suggest(key, known)}`,
        );
      }
      continue;
    }
    if (!known.includes(key)) {
      problems.push(`${fullKey}: unknown key${suggest(key, known)}`);
      continue;
    }
    lh[key] = decode(value);
  }
  const parsed = lakehouseSchema.safeParse(lh);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys) problems.push(`${keyPath([...issue.path, k])}: unknown key`);
        continue;
      }
      problems.push(`${keyPath(issue.path)}: ${describeIssue(issue)}`);
    }
  }
  problems.push(...crossFieldProblems(lh));
  if (secretKeys !== undefined) problems.push(...plainSecretProblems(lh, secretKeys));
  if (parsed.success) problems.push(...componentRuleProblems(parsed.data, problems));
  const unique = [...new Set(problems)];
  if (unique.length > 0 || !parsed.success) throw new StackConfigError(stackFile, unique);
  return parsed.data;
}

/** The retention of one cell: the stack default with the cell's overrides laid over it. */
export function cellRetention(config: Pick<LakehouseConfig, "cells" | "retention">, cellName: string): Retention {
  const cell = config.cells.find((c) => c.name === cellName);
  return { ...config.retention, ...(cell?.retention ?? {}) };
}
