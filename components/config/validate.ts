/**
 * Turns the raw stack config (`ns:key` -> string, as the Pulumi runtime holds it) into a typed
 * `LakehouseConfig`, or one `StackConfigError` that lists every problem with its key and stack file.
 * Pure: no Pulumi runtime needed, so it is table-tested directly.
 */
import { z } from "zod";
import { RESERVED_PREFIX } from "../../functions/cdc-merge/spec";
import {
  JURISDICTIONS,
  OMNI_AWS_REGIONS,
  TIME_TRAVEL_HOURS,
  type DataClass,
  type JurisdictionId,
} from "./jurisdictions";
import { AWS_REGIONS, GCP_REGIONS, REQUIRED_AWS_PRODUCTS, REQUIRED_GCP_PRODUCTS } from "./regions";
import {
  ORDERS_CUSTOMER_PSEUDONYM,
  PSEUDONYMISABLE_TYPES,
  lakehouseSchema,
  type LakehouseConfig,
  type Retention,
} from "./schema";

export const NAMESPACE = "lakehouse";

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
 * Rules across fields (residency, legal bounds, references). Runs on the raw values defensively so
 * that they are reported together with structural problems, not after the user fixed those.
 */
function crossFieldProblems(lh: Raw): string[] {
  const problems: string[] = [];
  const cells = arr(lh.cells);
  const names = new Map<string, number>();
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
    if (str(cell.federation) === "omni" && awsRegion !== undefined) {
      if (OMNI_AWS_REGIONS[awsRegion] === undefined) {
        problems.push(
          `${at}.federation: 'omni' needs a BigQuery Omni region for AWS '${awsRegion}', and there is none ` +
            `(Omni regions: ${Object.keys(OMNI_AWS_REGIONS).join(", ")}); use 'in-country-copy'`,
        );
      }
    }
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
    } else if (sla !== undefined && tt > sla * 24) {
      problems.push(
        `${NAMESPACE}:bigqueryTimeTravelHours: ${tt} hours keeps erased rows longer than the erasure SLA of ${sla} days`,
      );
    }
  }

  const sources = isObj(lh.sources) ? lh.sources : {};
  const creds = isObj(lh.sourceCredentials) ? lh.sourceCredentials : undefined;
  for (const [kind, list] of Object.entries(sources)) {
    arr(list).forEach((src, i) => {
      if (!isObj(src)) return;
      const at = `${NAMESPACE}:sources.${kind}[${i}]`;
      const cellRef = str(src.cell);
      if (cellRef !== undefined && !names.has(cellRef)) {
        problems.push(
          `${at}.cell: '${cellRef}' is not a configured cell (cells: ${[...names.keys()].join(", ") || "none"})`,
        );
      }
      if (kind === "transactional") {
        arr(src.tables).forEach((t, j) => problems.push(...tableProblems(t, `${at}.tables[${j}]`)));
        problems.push(...sourceTrustProblems(src, at));
      }
      const cred = str(src.credentials);
      if (cred !== undefined && creds !== undefined && !(cred in creds)) {
        problems.push(
          `${at}.credentials: no entry '${cred}' in ${NAMESPACE}:sourceCredentials ` +
            `(pulumi config set --secret --path '${NAMESPACE}:sourceCredentials.${cred}.password' ...)`,
        );
      }
    });
  }
  return problems;
}

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
    const facts = AWS_REGIONS[awsRegion];
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
    const facts = GCP_REGIONS[gcpRegion];
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
  if (lower(t.name) === "orders" && !derived.has(ORDERS_CUSTOMER_PSEUDONYM)) {
    problems.push(
      `${at}.pseudonymise: the orders table feeds the marts, which join on ${ORDERS_CUSTOMER_PSEUDONYM}; ` +
        `add { column: <customer id column>, as: ${ORDERS_CUSTOMER_PSEUDONYM} }`,
    );
  }
  return problems;
}

/**
 * Validates the whole raw config map.
 * @param raw every config key the program sees, `ns:key` -> string value
 * @param stackFile the file named in messages, e.g. `Pulumi.dev.yaml`
 */
export function parseStackConfig(raw: Readonly<Record<string, string>>, stackFile: string): LakehouseConfig {
  const lh: Raw = {};
  const problems: string[] = [];
  const known = Object.keys(lakehouseSchema.shape);
  for (const [fullKey, value] of Object.entries(raw)) {
    const sep = fullKey.indexOf(":");
    if (fullKey.slice(0, sep) !== NAMESPACE) continue;
    const key = fullKey.slice(sep + 1);
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
  const unique = [...new Set(problems)];
  if (unique.length > 0 || !parsed.success) throw new StackConfigError(stackFile, unique);
  return parsed.data;
}

/** The retention of one cell: the stack default with the cell's overrides laid over it. */
export function cellRetention(config: LakehouseConfig, cellName: string): Retention {
  const cell = config.cells.find((c) => c.name === cellName);
  return { ...config.retention, ...(cell?.retention ?? {}) };
}
