/**
 * The pack's own configuration: jurisdictions (allowed regions on both clouds), retention bounds per
 * data class, audit floors, the erasure SLA ceiling and the BigQuery time-travel window.
 *
 * A policy pack is published and run on its own (`pulumi preview --policy-pack policy`), so it does
 * not read the program's stack config: its defaults come from the contract both share
 * (`contract/jurisdictions.ts`), and `--policy-pack-config` (or the offline gate's `configure` call)
 * overrides them.
 *
 * CrossGuard config is per policy (`{ "<policy>": { enforcementLevel, ...props } }`), so every policy
 * declares the same `settingsSchema` and the rules read the merged settings with `readSettings`.
 */
import type { EnforcementLevel, PolicyConfigSchema, PolicyPackConfig } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import {
  DATA_CLASSES,
  JURISDICTIONS,
  RETENTION_CEILING_DAYS,
  TIME_TRAVEL_HOURS,
  gcpLocationsOf,
  type DataClass,
} from "./contract";

export interface JurisdictionSettings {
  /** The law, for messages. */
  readonly law: string;
  /** AWS regions inside the jurisdiction. */
  readonly awsRegions: readonly string[];
  /**
   * GCP locations inside the jurisdiction: regions (zones of these regions are accepted), plus any
   * BigQuery Omni location whose AWS region is inside the jurisdiction (`aws-eu-west-1`).
   */
  readonly gcpLocations: readonly string[];
  /**
   * Retention ceilings in days per data class (GDPR Art. 5(1)(e), LGPD Art. 15-16). Neither law states
   * numbers: these are the project's interpretation.
   */
  readonly retentionCeilingDays: Readonly<Record<DataClass, number>>;
  /** Minimum days audit logs are kept. */
  readonly auditFloorDays: number;
  /** Longest time, in days, within which an erasure must be physically complete. */
  readonly erasureSlaCeilingDays: number;
  /**
   * The erasure SLA the stack promises (its `lakehouse:erasureSlaDays`), which the rules hold stores to when it
   * is shorter than the ceiling: the offline gate sets it from the stack, `pulumi preview` through
   * `--policy-pack-config` (policy/README.md). @default erasureSlaCeilingDays
   */
  readonly erasureSlaDays?: number;
}

/** The SLA the rules check a jurisdiction's stores against: the configured one, never above the legal ceiling. */
export function erasureSlaOf(j: JurisdictionSettings): number {
  return Math.min(j.erasureSlaDays ?? j.erasureSlaCeilingDays, j.erasureSlaCeilingDays);
}

export interface PackSettings {
  /** Keyed by jurisdiction id, the value of the `jurisdiction` tag/label (`br`, `eu`). */
  readonly jurisdictions: Readonly<Record<string, JurisdictionSettings>>;
  /** BigQuery time travel window, hours (BigQuery accepts 48..168). */
  readonly bigQueryTimeTravelHours: { readonly min: number; readonly max: number };
  /** Longest key rotation period in days for KMS and Cloud KMS keys. */
  readonly maxKeyRotationDays: number;
  /** Values of the `environment` tag/label that count as production (deletion protection). */
  readonly productionEnvironments: readonly string[];
  /** Shortest pseudonymisation (HMAC) key, in bytes. */
  readonly minHmacKeyBytes: number;
}

export const DEFAULT_SETTINGS: PackSettings = {
  jurisdictions: Object.fromEntries(
    Object.values(JURISDICTIONS).map((j) => [
      j.id,
      {
        law: j.law,
        awsRegions: j.awsRegions,
        gcpLocations: gcpLocationsOf(j),
        retentionCeilingDays: j.retentionCeilingDays,
        auditFloorDays: j.auditFloorDays,
        erasureSlaCeilingDays: j.erasureSlaCeilingDays,
      },
    ]),
  ),
  bigQueryTimeTravelHours: { min: TIME_TRAVEL_HOURS.min, max: TIME_TRAVEL_HOURS.max },
  // AWS KMS automatic rotation defaults to 365 days; Cloud KMS has no default, so we ask for a year.
  maxKeyRotationDays: 365,
  productionEnvironments: ["prod", "production"],
  // 256-bit keys for HMAC-SHA256 (RFC 2104 §3: keys shorter than the hash output weaken it).
  minHmacKeyBytes: 32,
};

const stringList: PolicyConfigJSONSchema = { type: "array", items: { type: "string" } };

const jurisdictionSchema: PolicyConfigJSONSchema = {
  type: "object",
  required: ["law", "awsRegions", "gcpLocations", "retentionCeilingDays", "auditFloorDays", "erasureSlaCeilingDays"],
  properties: {
    law: { type: "string" },
    awsRegions: stringList,
    gcpLocations: stringList,
    retentionCeilingDays: {
      type: "object",
      properties: Object.fromEntries(DATA_CLASSES.map((c) => [c, { type: "integer", minimum: 1 }])),
      required: [...DATA_CLASSES],
    },
    auditFloorDays: { type: "integer", minimum: 1 },
    erasureSlaCeilingDays: { type: "integer", minimum: 1 },
    erasureSlaDays: { type: "integer", minimum: 1 },
  },
};

/**
 * JSON schema of the settings every policy accepts. `default`s make the schema self-describing in
 * `pulumi policy ls`/the Pulumi Cloud UI; the rules merge over `DEFAULT_SETTINGS` anyway, so a
 * partial config (only `jurisdictions.eu.awsRegions`, say) keeps the other defaults.
 */
export const settingsSchema: PolicyConfigSchema = {
  properties: {
    jurisdictions: {
      type: "object",
      description: "Jurisdictions by id (the `jurisdiction` tag/label): allowed regions, retention bounds.",
      additionalProperties: jurisdictionSchema,
      default: DEFAULT_SETTINGS.jurisdictions,
    },
    bigQueryTimeTravelHours: {
      type: "object",
      properties: { min: { type: "integer" }, max: { type: "integer" } },
      default: DEFAULT_SETTINGS.bigQueryTimeTravelHours,
    },
    maxKeyRotationDays: { type: "integer", minimum: 1, default: DEFAULT_SETTINGS.maxKeyRotationDays },
    productionEnvironments: { ...stringList, default: [...DEFAULT_SETTINGS.productionEnvironments] },
    minHmacKeyBytes: { type: "integer", minimum: 16, default: DEFAULT_SETTINGS.minHmacKeyBytes },
  },
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const asNumber = (v: unknown, fallback: number): number => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
const asStrings = (v: unknown, fallback: readonly string[]): readonly string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : fallback;

function mergeJurisdiction(base: JurisdictionSettings | undefined, raw: unknown): JurisdictionSettings | undefined {
  if (!isRecord(raw)) return base;
  const ceilings = isRecord(raw.retentionCeilingDays) ? raw.retentionCeilingDays : {};
  const baseCeilings = base?.retentionCeilingDays ?? RETENTION_CEILING_DAYS;
  return {
    law: typeof raw.law === "string" ? raw.law : (base?.law ?? "unknown law"),
    awsRegions: asStrings(raw.awsRegions, base?.awsRegions ?? []),
    gcpLocations: asStrings(raw.gcpLocations, base?.gcpLocations ?? []),
    retentionCeilingDays: Object.fromEntries(
      DATA_CLASSES.map((c) => [c, asNumber(ceilings[c], baseCeilings[c])]),
    ) as Record<DataClass, number>,
    auditFloorDays: asNumber(raw.auditFloorDays, base?.auditFloorDays ?? 365),
    erasureSlaCeilingDays: asNumber(raw.erasureSlaCeilingDays, base?.erasureSlaCeilingDays ?? 30),
    ...(typeof raw.erasureSlaDays === "number" && Number.isFinite(raw.erasureSlaDays)
      ? { erasureSlaDays: raw.erasureSlaDays }
      : base?.erasureSlaDays !== undefined
        ? { erasureSlaDays: base.erasureSlaDays }
        : {}),
  };
}

/** Merges one policy's config (`args.getConfig()`) over the defaults. Never throws. */
export function readSettings(raw: unknown): PackSettings {
  if (!isRecord(raw)) return DEFAULT_SETTINGS;
  const jurisdictions: Record<string, JurisdictionSettings> = { ...DEFAULT_SETTINGS.jurisdictions };
  if (isRecord(raw.jurisdictions)) {
    for (const [id, j] of Object.entries(raw.jurisdictions)) {
      const merged = mergeJurisdiction(jurisdictions[id], j);
      if (merged) jurisdictions[id] = merged;
    }
  }
  const tt = isRecord(raw.bigQueryTimeTravelHours) ? raw.bigQueryTimeTravelHours : {};
  return {
    jurisdictions,
    bigQueryTimeTravelHours: {
      min: asNumber(tt.min, DEFAULT_SETTINGS.bigQueryTimeTravelHours.min),
      max: asNumber(tt.max, DEFAULT_SETTINGS.bigQueryTimeTravelHours.max),
    },
    maxKeyRotationDays: asNumber(raw.maxKeyRotationDays, DEFAULT_SETTINGS.maxKeyRotationDays),
    productionEnvironments: asStrings(raw.productionEnvironments, DEFAULT_SETTINGS.productionEnvironments),
    minHmacKeyBytes: asNumber(raw.minHmacKeyBytes, DEFAULT_SETTINGS.minHmacKeyBytes),
  };
}

/** Overrides a caller can give the offline gate; same shape as `PackSettings`, every field optional. */
export interface SettingsOverrides {
  readonly jurisdictions?: Readonly<Record<string, Partial<JurisdictionSettings>>>;
  readonly bigQueryTimeTravelHours?: { readonly min: number; readonly max: number };
  readonly maxKeyRotationDays?: number;
  readonly productionEnvironments?: readonly string[];
  readonly minHmacKeyBytes?: number;
}

/**
 * Builds the CrossGuard pack config (what `--policy-pack-config` holds and what the engine sends in
 * `ConfigureAnalyzerRequest`): every policy gets the settings and its enforcement level.
 */
export function buildPackConfig(
  policyNames: readonly string[],
  opts: {
    readonly settings?: SettingsOverrides;
    readonly enforcementLevels?: Readonly<Record<string, EnforcementLevel>>;
    readonly defaultLevels?: Readonly<Record<string, EnforcementLevel>>;
  } = {},
): PolicyPackConfig {
  const settings = readSettings(opts.settings ?? {});
  const config: PolicyPackConfig = {};
  for (const name of policyNames) {
    const level = opts.enforcementLevels?.[name] ?? opts.defaultLevels?.[name] ?? "mandatory";
    config[name] = { enforcementLevel: level, ...structuredClone(settings) };
  }
  return config;
}
