/**
 * The rule model shared by every domain file: metadata (articles, severity, remediation), a plain
 * resource view that sees preview unknowns, and helpers to read tags, jurisdictions, regions and data
 * classes. Nothing here starts the analyzer, so rules are importable from tests and tools.
 */
import type { EnforcementLevel, Severity } from "@pulumi/policy";
import type { JurisdictionSettings, PackSettings } from "../config";
import { DATA_CLASSES, TAG_KEYS, type DataClass } from "../contract";

// ------------------------------------------------------------------------------------------------
// Metadata
// ------------------------------------------------------------------------------------------------

export type Law = "GDPR" | "LGPD" | "Marco Civil";

export interface ArticleRef {
  readonly law: Law;
  /** As cited: `Art. 32(1)(a)`, `Art. 19 II`. */
  readonly article: string;
  /** Set when the mapping is the project's own reading rather than the text's plain requirement. */
  readonly interpretation?: string;
}

export type Domain =
  | "encryption"
  | "transit"
  | "residency"
  | "retention"
  | "public-access"
  | "least-privilege"
  | "audit"
  | "protection"
  | "pseudonymisation"
  | "records";

export interface RuleMeta {
  /** Policy name (kebab-case, unique in the pack). */
  readonly name: string;
  /** One line: what the rule requires. Prefixes every violation message. */
  readonly description: string;
  readonly domain: Domain;
  readonly severity: Severity;
  /** Default enforcement level; the pack config overrides it per policy. */
  readonly enforcementLevel: EnforcementLevel;
  readonly articles: readonly ArticleRef[];
  /** What to do about a violation, in full sentences. */
  readonly remediation: string;
  /**
   * Resource types the rule inspects: exact tokens, or globs (`gcp:*IamMember*`) for families.
   * A catch-all rule (residency) lists `aws:*`/`gcp:*` and is flagged `catchAll`.
   */
  readonly resourceTypes: readonly string[];
  /** True for rules that apply to every resource of a cloud (excluded from the coverage figure). */
  readonly catchAll?: boolean;
}

/** A provider as the analyzer passes it with a resource. */
export interface ProviderView {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
}

/** A resource as a rule sees it: raw property values, preview unknowns left as sentinels. */
export interface ResourceView {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
  readonly provider?: ProviderView;
  readonly protect: boolean;
  /** URNs (stack rules only; empty for resource rules). */
  readonly dependencies: readonly string[];
  /** Property name -> URNs it depends on (stack rules only). */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

export interface RuleContext {
  readonly settings: PackSettings;
  /** A violation at the policy's enforcement level. */
  report(message: string, urn?: string): void;
  /** An advisory diagnostic whatever the policy's level (used to name unknowns that cannot fail). */
  advise(message: string, urn?: string): void;
}

export interface ResourceRule extends RuleMeta {
  readonly kind: "resource";
  validate(r: ResourceView, ctx: RuleContext): void;
}

export interface StackRule extends RuleMeta {
  readonly kind: "stack";
  validate(resources: readonly ResourceView[], ctx: RuleContext): void;
}

export type Rule = ResourceRule | StackRule;

// ------------------------------------------------------------------------------------------------
// Unknowns
// ------------------------------------------------------------------------------------------------

/**
 * The engine's sentinels for values unknown during preview (`@pulumi/policy/proxy.js`,
 * `@pulumi/pulumi/runtime/rpc.ts`). Rules read raw values, so they see these strings and must not
 * mistake them for real values.
 */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string (and the generic computed value)
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
  "030794c1-ac77-496b-92df-f27374a8bd58", // asset
  "e48ece36-62e2-4504-bad9-02848725956a", // archive
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

export const isUnknown = (v: unknown): boolean => typeof v === "string" && UNKNOWN_SENTINELS.has(v);

/** Thrown when a rule needs a value that is unknown at preview; the wrapper turns it into a violation. */
export class UnknownInputError extends Error {
  constructor(
    readonly path: string,
    /** The resource whose props held the unknown, when known. */
    readonly owner?: { readonly urn: string; readonly label: string },
  ) {
    super(`${path} is unknown during preview`);
    this.name = "UnknownInputError";
  }
}

/** Props object -> the resource it belongs to, so an unknown met in a stack rule names its resource. */
const OWNERS = new WeakMap<object, { urn: string; label: string }>();
export function ownProps(r: ResourceView): ResourceView {
  OWNERS.set(r.props, { urn: r.urn, label: label(r) });
  return r;
}

/** The message an unknown value that must be known produces (one place, so tests can assert it exactly). */
export const unknownMessage = (path: string, who?: string): string =>
  `${who ? `${who}: ` : ""}'${path}' is unknown during preview, so this rule cannot verify it and fails closed; ` +
  `make the value known at preview (a literal or a config value) or run the gate again after the dependency exists.`;

/**
 * Properties the program writes from stack config (where a resource lives, whose account or project, its
 * jurisdiction tags). They are known in every preview; an unknown one means the program lost track of
 * residency, so it fails closed at the policy's level even in a first preview (ADR 0010).
 */
export const KNOWN_AT_PREVIEW: ReadonlySet<string> = new Set([
  "region",
  "location",
  "project",
  "allowedAccountIds",
  "defaultTags",
  "defaultLabels",
  "tags",
  "labels",
]);

/** Whether an unknown at `path` must fail closed (a config fact) rather than wait for its value. */
export const mustBeKnownAtPreview = (path: string): boolean => KNOWN_AT_PREVIEW.has(path.split(/[.[]/, 1)[0] ?? path);

/**
 * The advisory an unknown reference produces (an ARN, id, e-mail or policy built from resources created
 * in the same update). The engine resolves every input before it calls the analyzer during the update,
 * so the same rule then sees the value and enforces it at its level before the resource is created.
 */
export const checkedWhenKnownMessage = (path: string, who?: string): string =>
  `${who ? `${who}: ` : ""}'${path}' is unknown until the resource it refers to exists (a first preview); ` +
  `checked when known: the update sends the value before the resource is created, and a violation then stops it.`;

/**
 * Reports an unknown met by a rule: a config fact fails closed at the policy's level, a reference is an
 * advisory "checked when known". `urn` is the resource a resource rule is analyzing ("" in a stack rule:
 * the diagnostic then goes to the resource that held the unknown, named in the message).
 */
export function reportUnknown(ctx: RuleContext, e: UnknownInputError, urn: string): void {
  const who = urn !== "" ? undefined : e.owner?.label;
  const at = urn !== "" ? urn : e.owner?.urn;
  if (mustBeKnownAtPreview(e.path)) ctx.report(unknownMessage(e.path, who), at);
  else ctx.advise(checkedWhenKnownMessage(e.path, who), at);
}

/**
 * Runs a stack rule's check per item: an unknown met for one item is reported (`reportUnknown`) and the
 * rule goes on with the next, so a first preview still enforces every known value.
 */
export function eachKnown<T>(items: Iterable<T>, ctx: RuleContext, fn: (item: T) => void): void {
  for (const item of items) {
    try {
      fn(item);
    } catch (e) {
      if (!(e instanceof UnknownInputError)) throw e;
      reportUnknown(ctx, e, "");
    }
  }
}

/**
 * Reads a dotted path (`a.b[0].c`) from raw props. Throws `UnknownInputError` if the value or any
 * object on the way is unknown, so a rule can never treat an unknown as absent or as compliant.
 */
export function get(obj: unknown, path: string, at = path): unknown {
  const owner = typeof obj === "object" && obj !== null ? OWNERS.get(obj) : undefined;
  let cur: unknown = obj;
  if (isUnknown(cur)) throw new UnknownInputError(at, owner);
  for (const part of path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "")) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) {
      const i = Number(part);
      cur = Number.isInteger(i) ? cur[i] : undefined;
    } else if (typeof cur === "object") {
      cur = (cur as Record<string, unknown>)[part];
    } else {
      return undefined;
    }
    if (isUnknown(cur)) throw new UnknownInputError(at, owner);
  }
  return cur;
}

/**
 * A string for joins: the value when known, `undefined` when absent or not a string, and `null` when
 * unknown at preview (a name or ARN created in the same update). Joins then fall back on property
 * dependencies instead of failing the whole stack rule closed on a reference they do not need to read.
 */
export function peekStr(obj: unknown, path: string): string | null | undefined {
  try {
    const v = get(obj, path);
    return typeof v === "string" ? v : undefined;
  } catch (e) {
    if (e instanceof UnknownInputError) return null;
    throw e;
  }
}

/**
 * The resource among `candidates` that `r`'s property `prop` refers to: by property dependency first
 * (known even when the reference is unknown at preview), else by the known value matched against the
 * candidates' `keys`. An unknown reference that no dependency joins throws `UnknownInputError`.
 */
export function referenced(
  candidates: readonly ResourceView[],
  r: ResourceView,
  prop: string,
  keys: readonly string[],
): ResourceView | undefined {
  const deps = r.propertyDependencies[prop.split(/[.[]/, 1)[0] ?? prop] ?? [];
  const byDependency = candidates.find((c) => deps.includes(c.urn));
  if (byDependency) return byDependency;
  const ref = peekStr(r.props, prop);
  if (ref === null) throw new UnknownInputError(prop, OWNERS.get(r.props));
  if (ref === undefined) return undefined;
  return candidates.find((c) => keys.some((k) => c.props[k] === ref));
}

/** The known strings of a list property (unknown items and an unknown list are skipped), for joins. */
export function peekStrings(obj: unknown, path: string): { readonly known: string[]; readonly unknown: number } {
  let v: unknown;
  try {
    v = get(obj, path);
  } catch (e) {
    if (e instanceof UnknownInputError) return { known: [], unknown: 1 };
    throw e;
  }
  if (!Array.isArray(v)) return { known: [], unknown: 0 };
  return {
    known: v.filter((x): x is string => typeof x === "string" && !isUnknown(x)),
    unknown: v.filter(isUnknown).length,
  };
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function str(obj: unknown, path: string): string | undefined {
  const v = get(obj, path);
  return typeof v === "string" ? v : undefined;
}

/** Numbers, or numeric strings (the GCP provider types several durations and sizes as strings). */
export function num(obj: unknown, path: string): number | undefined {
  const v = get(obj, path);
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function bool(obj: unknown, path: string): boolean | undefined {
  const v = get(obj, path);
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  return undefined;
}

export function list(obj: unknown, path: string): unknown[] {
  const v = get(obj, path);
  if (!Array.isArray(v)) return [];
  v.forEach((item, i) => {
    if (isUnknown(item))
      throw new UnknownInputError(
        `${path}[${i}]`,
        typeof obj === "object" && obj !== null ? OWNERS.get(obj) : undefined,
      );
  });
  return v;
}

export function record(obj: unknown, path: string): Record<string, unknown> | undefined {
  const v = get(obj, path);
  if (isRecord(v)) return v;
  // Provider config objects reach the analyzer JSON-encoded (the engine stores provider inputs as strings).
  if (typeof v === "string" && v.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(v);
      if (isRecord(parsed)) return parsed;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A reference to something created in the same update (a key ARN, a resource name) may be unknown
 * at preview: it is then surely set, but to what cannot be checked. Returns "set" when present,
 * "unknown" (after an advisory naming it) when unknown, undefined when absent.
 */
export function reference(
  obj: unknown,
  path: string,
  ctx: RuleContext,
  r: ResourceView,
  what = "a resource created in this update",
): "set" | "unknown" | undefined {
  try {
    const v = get(obj, path);
    if (typeof v === "string") return v.trim() === "" ? undefined : "set";
    return v === undefined || v === null ? undefined : "set";
  } catch (e) {
    if (!(e instanceof UnknownInputError)) throw e;
    ctx.advise(
      `${label(r)}: '${path}' is unknown during preview; it is assumed to reference ${what} and is checked again at \`pulumi up\`.`,
      r.urn,
    );
    return "unknown";
  }
}

// ------------------------------------------------------------------------------------------------
// Types, names, tags, jurisdictions
// ------------------------------------------------------------------------------------------------

const globCache = new Map<string, RegExp>();
export function matchesType(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => {
    if (!p.includes("*")) return p === type;
    let re = globCache.get(p);
    if (!re) {
      re = new RegExp(
        `^${p
          .split("*")
          .map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
          .join(".*")}$`,
      );
      globCache.set(p, re);
    }
    return re.test(type);
  });
}

/** `aws:s3/bucket:Bucket` -> `S3 bucket 'name'`-like label used at the start of messages. */
export const label = (r: Pick<ResourceView, "type" | "name">): string => `${r.type} '${r.name}'`;

export const cloudOf = (type: string): "aws" | "gcp" | undefined => {
  if (type.startsWith("aws:") || type === "pulumi:providers:aws") return "aws";
  if (type.startsWith("gcp:") || type === "pulumi:providers:gcp") return "gcp";
  return undefined;
};

export const isProvider = (type: string): boolean => type.startsWith("pulumi:providers:");

function stringMap(v: Record<string, unknown> | undefined, at: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v ?? {})) {
    if (isUnknown(val)) throw new UnknownInputError(`${at}.${k}`);
    if (typeof val === "string") out[k] = val;
  }
  return out;
}

/** Provider-level default tags (AWS `defaultTags.tags`) or labels (GCP `defaultLabels`). */
export function providerDefaults(p: ProviderView | { type: string; props: Record<string, unknown> } | undefined) {
  if (!p) return {};
  if (p.type === "pulumi:providers:aws") {
    const dt = record(p.props, "defaultTags");
    return stringMap(dt ? record(dt, "tags") : undefined, "provider.defaultTags.tags");
  }
  if (p.type === "pulumi:providers:gcp") return stringMap(record(p.props, "defaultLabels"), "provider.defaultLabels");
  return {};
}

/**
 * The tags/labels that will be on the resource: the provider's defaults overlaid by the resource's
 * own `tags` (AWS) or `labels` (GCP). For a provider resource, its own defaults.
 */
export function effectiveTags(r: ResourceView): Record<string, string> {
  if (isProvider(r.type)) return providerDefaults(r);
  const own = { ...stringMap(record(r.props, "tags"), "tags"), ...stringMap(record(r.props, "labels"), "labels") };
  return { ...providerDefaults(r.provider), ...own };
}

export interface ResolvedJurisdiction {
  readonly id: string;
  readonly settings: JurisdictionSettings;
}

/**
 * The jurisdiction whose rules apply: the `jurisdiction` tag/label (the law) first, then the `cell`
 * tag (a cell named after its jurisdiction), each matched to a configured jurisdiction id or law.
 */
export function jurisdictionOf(r: ResourceView, settings: PackSettings): ResolvedJurisdiction | undefined {
  const tags = effectiveTags(r);
  for (const key of [TAG_KEYS.jurisdiction, TAG_KEYS.cell]) {
    const v = tags[key]?.toLowerCase();
    if (!v) continue;
    for (const [id, j] of Object.entries(settings.jurisdictions)) {
      if (id.toLowerCase() === v || j.law.toLowerCase() === v) return { id, settings: j };
    }
  }
  return undefined;
}

export const environmentOf = (r: ResourceView): string | undefined =>
  effectiveTags(r)[TAG_KEYS.environment]?.toLowerCase();

/** Name segments that mean a data class when no `data-classification` tag says it. */
const CLASS_ALIASES: Readonly<Record<string, DataClass>> = {
  landing: "raw",
  bronze: "raw",
  warehouse: "curated",
  silver: "curated",
  mart: "marts",
  gold: "marts",
  events: "clickstream",
  log: "logs",
  trail: "audit",
  cloudtrail: "audit",
};

export interface ResolvedClass {
  readonly cls: DataClass;
  readonly source: "tag" | "name";
}

/**
 * The data class for retention bounds: the `data-classification` tag/label when it names a class,
 * else the last segment of the logical name (split on `-`, `_`, `.`) that names one (aliases above).
 */
export function dataClassOf(r: ResourceView): ResolvedClass | undefined {
  const tag = effectiveTags(r)[TAG_KEYS.dataClassification]?.toLowerCase();
  const known = (s: string | undefined): DataClass | undefined =>
    s === undefined ? undefined : (DATA_CLASSES as readonly string[]).includes(s) ? (s as DataClass) : CLASS_ALIASES[s];
  const fromTag = known(tag);
  if (fromTag) return { cls: fromTag, source: "tag" };
  const segments = r.name.toLowerCase().split(/[-_.]/).reverse();
  for (const s of segments) {
    const c = known(s);
    if (c) return { cls: c, source: "name" };
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// Regions and locations
// ------------------------------------------------------------------------------------------------

/** AWS services whose resources have no region. */
const AWS_GLOBAL = [/^aws:iam\//, /^aws:organizations\//, /^aws:route53\//, /^aws:cloudfront\//, /^aws:budgets\//];

/** GCP resources with no location of their own (global, or inheriting the parent's). */
const GCP_LOCATIONLESS = [
  /^gcp:projects\//,
  /^gcp:serviceaccount\//,
  /^gcp:organizations\//,
  /^gcp:resourcemanager\//,
  /[Ii][Aa][Mm](Member|Binding|Policy)$/,
  /^gcp:bigquery\/(table|datasetAccess|routine):/,
  /^gcp:pubsub\/(schema|subscription):/,
  /^gcp:secretmanager\/secretVersion:/,
  /^gcp:compute\/(network|firewall|globalAddress|route):/,
  /^gcp:iam\//,
  /^gcp:servicenetworking\//,
  /^gcp:orgpolicy\//,
  // Privileged Access Manager entitlements are IAM configuration, served from `global`.
  /^gcp:privilegedaccessmanager\//,
  /^gcp:cloudfunctionsv2\/functionIamMember:/,
];

export function awsRegionOf(r: ResourceView): string | undefined {
  if (AWS_GLOBAL.some((re) => re.test(r.type))) return undefined;
  if (isProvider(r.type)) return str(r.props, "region");
  return str(r.props, "region") ?? (r.provider ? str(r.provider.props, "region") : undefined);
}

export interface Placement {
  /** Where the data lives, as the resource states it. */
  readonly locations: readonly string[];
  /** Which property it came from, for messages. */
  readonly from: string;
}

/**
 * Where a resource keeps its data: one or more locations, or `undefined` if location-less.
 * Returns `{ locations: [] }` when the resource must state a location and does not (the cloud would
 * pick a multi-region default outside the jurisdiction, such as BigQuery's `US`).
 */
export function placementOf(r: ResourceView): Placement | undefined {
  const cloud = cloudOf(r.type);
  if (cloud === "aws") {
    const region = awsRegionOf(r);
    if (region === undefined) {
      if (AWS_GLOBAL.some((re) => re.test(r.type))) return undefined;
      return { locations: [], from: "region" };
    }
    return { locations: [region], from: str(r.props, "region") !== undefined ? "region" : "provider region" };
  }
  if (cloud !== "gcp") return undefined;
  if (isProvider(r.type)) {
    const region = str(r.props, "region");
    return { locations: region ? [region] : [], from: "region" };
  }
  switch (r.type) {
    case "gcp:pubsub/topic:Topic": {
      const regions = list(r.props, "messageStoragePolicy.allowedPersistenceRegions").filter(
        (x): x is string => typeof x === "string",
      );
      return { locations: regions, from: "messageStoragePolicy.allowedPersistenceRegions" };
    }
    case "gcp:secretmanager/secret:Secret": {
      if (get(r.props, "replication.auto") !== undefined)
        return { locations: ["global (automatic replication)"], from: "replication.auto" };
      const replicas = list(r.props, "replication.userManaged.replicas").map(
        (rep, i) => str(rep, "location") ?? `replica ${i}`,
      );
      return { locations: replicas, from: "replication.userManaged.replicas[].location" };
    }
    case "gcp:kms/cryptoKey:CryptoKey": {
      const ring = str(r.props, "keyRing");
      const m = ring ? /\/locations\/([^/]+)\//.exec(ring) : null;
      if (m) return { locations: [m[1]], from: "keyRing" };
      break;
    }
    case "gcp:storage/bucket:Bucket": {
      const dl = list(r.props, "customPlacementConfig.dataLocations").filter((x): x is string => typeof x === "string");
      if (dl.length > 0) return { locations: dl, from: "customPlacementConfig.dataLocations" };
      const loc = str(r.props, "location");
      return { locations: loc ? [loc] : [], from: "location" };
    }
    case "gcp:bigquery/dataset:Dataset":
    case "gcp:bigquery/connection:Connection":
    case "gcp:bigquery/dataTransferConfig:DataTransferConfig":
    case "gcp:bigquery/biReservation:BiReservation":
    case "gcp:bigquery/reservation:Reservation": {
      // BigQuery defaults an absent location to the `US` multi-region, not to the provider's region.
      const loc = str(r.props, "location");
      return { locations: loc ? [loc] : [], from: "location" };
    }
    default:
      break;
  }
  if (GCP_LOCATIONLESS.some((re) => re.test(r.type))) return undefined;
  for (const key of ["location", "region", "zone"]) {
    const v = str(r.props, key);
    if (v) return { locations: [v], from: key };
  }
  const providerRegion = r.provider ? str(r.provider.props, "region") : undefined;
  return { locations: providerRegion ? [providerRegion] : [], from: "provider region" };
}

/** A GCP location is allowed if listed, or a zone (`<region>-a`) of a listed region. Case-insensitive. */
export function gcpLocationAllowed(location: string, allowed: readonly string[]): boolean {
  const l = location.toLowerCase();
  return allowed.some((a) => {
    const x = a.toLowerCase();
    return l === x || new RegExp(`^${x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[a-z]$`).test(l);
  });
}

// ------------------------------------------------------------------------------------------------
// Stack joins
// ------------------------------------------------------------------------------------------------

/**
 * Resources of `type` that point at `target` through `prop`: by property dependency (the URN) when
 * the analyzer has it, else by value (the target's id, name or ARN, as the plan's outputs hold them).
 */
export function attachedTo(
  resources: readonly ResourceView[],
  type: string,
  prop: string,
  target: ResourceView,
  targetKeys: readonly string[],
): ResourceView[] {
  const keys = new Set<string>();
  for (const k of targetKeys) {
    const v = target.props[k];
    if (typeof v === "string" && !isUnknown(v)) keys.add(v);
  }
  return resources.filter((r) => {
    if (r.type !== type) return false;
    if ((r.propertyDependencies[prop] ?? []).includes(target.urn)) return true;
    const v = r.props[prop];
    return typeof v === "string" && keys.has(v);
  });
}

/** Parses an IAM policy document given as a JSON string or object. */
export function policyDocument(v: unknown): { Statement: Record<string, unknown>[] } | undefined {
  let doc: unknown = v;
  if (typeof v === "string") {
    if (isUnknown(v)) return undefined;
    try {
      doc = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(doc)) return undefined;
  const st = doc.Statement;
  const statements = Array.isArray(st) ? st : isRecord(st) ? [st] : [];
  return { Statement: statements.filter(isRecord) };
}

export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Days in a Google duration string (`"604800s"`), or undefined. */
export function durationDays(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(v.trim());
  return m ? Number(m[1]) / 86400 : undefined;
}
