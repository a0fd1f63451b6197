/**
 * The contract between the program and the pack (policy/contract/): every fact it holds is written
 * there once. These tests fail when one is written again in components/ or policy/, when the program's
 * and the pack's stateful lists part, and when the erasure budget the program applies differs from the
 * one the pack demands.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import ts from "typescript";
import * as pulumi from "@pulumi/pulumi";
import { maintenanceForSla } from "../../components/aws/ingestion/iceberg-table";
import { AWS_REGIONS, GCP_REGIONS } from "../../components/config/regions";
import { PROJECT_ROOT } from "../../components/project-root";
import {
  STATEFUL_TYPES as PROGRAM_STATEFUL,
  noncurrentDaysForErasure,
  protectStateful,
} from "../../components/conventions";
import { exportExpirationDays } from "../../components/federation/federation";
import { replayWindowDays } from "../../components/gcp/clickstream/event-topic";
import { readSettings } from "../../policy/config";
import {
  BIGQUERY_FAIL_SAFE_DAYS,
  DATA_CLASSES,
  JURISDICTIONS,
  LIFECYCLE_LAG_DAYS,
  LIVE_DELETION_DAYS,
  PUBLIC_ENDPOINT_LABEL,
  STATEFUL_TYPES,
  TAG_KEYS,
  TIME_TRAVEL_HOURS,
  erasureBudget,
  gcpLocationsOf,
  shortestErasureSla,
} from "../../policy/contract";
import type { ResourceView, RuleContext, ResourceRule, StackRule } from "../../policy/rules/common";
import { deletionProtection } from "../../policy/rules/protection";
import {
  bigqueryRetention,
  gcsRetention,
  icebergSnapshotExpiry,
  s3Retention,
  streamRetention,
} from "../../policy/rules/retention";

const CONTRACT = path.join("policy", "contract");

/** Every TypeScript source of the program's components and of the pack, outside the contract. */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && rel !== CONTRACT) walk(rel);
      } else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(rel);
    }
  };
  walk("components");
  walk("policy");
  return out.sort();
}

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

/** Walks a file's syntax tree (comments are not in it) and reports what `check` finds at each node. */
function scan(check: (node: ts.Node) => string | undefined): Finding[] {
  const findings: Finding[] = [];
  for (const file of sources()) {
    const sf = ts.createSourceFile(
      file,
      fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8"),
      ts.ScriptTarget.ES2022,
      true,
    );
    const visit = (node: ts.Node): void => {
      // Module specifiers name files, not facts.
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
      const what = check(node);
      if (what !== undefined)
        findings.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what });
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return findings;
}

const text = (n: ts.Node): string | undefined =>
  ts.isStringLiteralLike(n) || ts.isTemplateLiteralToken(n) ? n.text : undefined;
/** The strings of an array literal's elements, or of an object literal's property names. */
function members(n: ts.Node): string[] {
  const names: (string | undefined)[] = ts.isArrayLiteralExpression(n)
    ? n.elements.map(text)
    : ts.isObjectLiteralExpression(n)
      ? n.properties.map((p) =>
          p.name === undefined ? undefined : ts.isIdentifier(p.name) ? p.name.text : text(p.name),
        )
      : [];
  return names.filter((s): s is string => s !== undefined);
}
const where = (fs_: readonly Finding[]): string[] => fs_.map((f) => `${f.file}:${f.line} ${f.what}`);

type Kind = "tag key" | "region" | "list" | "erasure arithmetic";

/**
 * Occurrences that remain until files owned elsewhere adopt the contract's helpers. Each must still be
 * there (so its entry goes with it) and nothing else may appear.
 */
const PENDING: readonly { readonly kind: Kind; readonly file: string; readonly what: string; readonly why: string }[] =
  [];

/** Fails on any finding of `kind` that is not pending, and on a pending entry no longer found. */
function expectOnlyPending(kind: Kind, found: readonly Finding[]): void {
  const pending = PENDING.filter((p) => p.kind === kind);
  const isPending = (f: Finding) => pending.some((p) => f.file === p.file && f.what.startsWith(p.what));
  expect(where(found.filter((f) => !isPending(f))), `${kind} outside policy/contract/`).to.deep.equal([]);
  for (const p of pending)
    expect(
      found.some((f) => f.file === p.file && f.what.startsWith(p.what)),
      `${p.file} no longer has ${kind} ${p.what}: remove it from PENDING`,
    ).to.equal(true);
}

/** True if an object literal is declared as a map keyed by one of the contract's key types (the compiler checks it). */
function keyedByContract(n: ts.Node): boolean {
  const typeText = n.parent !== undefined && ts.isVariableDeclaration(n.parent) ? n.parent.type?.getText() : undefined;
  return typeText !== undefined && /\b(StatefulType|DataClass)\b/.test(typeText);
}

describe("policy contract: every fact once", function () {
  this.timeout(60_000);

  it("writes no tag or label key, and not the public-endpoint label, outside the contract", function () {
    const hyphenated = Object.values(TAG_KEYS).filter((k) => k.includes("-"));
    const words = new Set<string>(Object.values(TAG_KEYS));
    const found = scan((n) => {
      const s = text(n);
      if (s !== undefined) {
        // The rule is named after the label; its name is not the label.
        if (new RegExp(`\\b${PUBLIC_ENDPOINT_LABEL.key}\\b(?!-)`).test(s) || s.includes(PUBLIC_ENDPOINT_LABEL.value))
          return "the public-endpoint label";
        const key = hyphenated.find((k) => new RegExp(`\\b${k}\\b`).test(s));
        if (key !== undefined) return `'${key}'`;
      }
      // tags["environment"], or a list of keys to try.
      if (ts.isElementAccessExpression(n)) {
        const k = text(n.argumentExpression);
        if (k !== undefined && words.has(k)) return `'${k}'`;
      }
      if (ts.isArrayLiteralExpression(n) && members(n).filter((m) => words.has(m)).length >= 2)
        return `[${members(n).join(", ")}]`;
      return undefined;
    });
    expectOnlyPending("tag key", found);
  });

  it("lists no jurisdiction's regions outside the contract", function () {
    const locations = new Set(Object.values(JURISDICTIONS).flatMap((j) => [...j.awsRegions, ...gcpLocationsOf(j)]));
    const found = scan((n) => {
      const s = text(n);
      return s !== undefined && locations.has(s) ? `'${s}'` : undefined;
    });
    // components/config/regions.ts keys per-region facts (zones, products) by region; the next test holds
    // its keys to exactly the contract's regions.
    expect(where(found.filter((f) => f.file !== path.join("components", "config", "regions.ts")))).to.deep.equal([]);
  });

  it("keys the program's per-region facts by exactly the contract's regions", function () {
    const all = Object.values(JURISDICTIONS);
    expect(Object.keys(AWS_REGIONS).sort()).to.deep.equal([...new Set(all.flatMap((j) => j.awsRegions))].sort());
    expect(Object.keys(GCP_REGIONS).sort()).to.deep.equal([...new Set(all.flatMap((j) => j.gcpRegions))].sort());
  });

  it("lists no stateful types and no data classes outside the contract", function () {
    const classes = new Set<string>(DATA_CLASSES);
    const found = scan((n) => {
      if (keyedByContract(n)) return undefined;
      const m = members(n);
      const stateful = m.filter((x) => STATEFUL_TYPES.has(x)).length;
      // A map from a few stateful types to a property (force-delete flags, encryption keys) is another
      // fact; a list that is mostly stateful types is this one.
      if (stateful >= 5 && stateful / m.length >= 0.75) return `${stateful} stateful types`;
      const cls = m.filter((x) => classes.has(x)).length;
      // Every class, as a list or as a map's keys; a subset (the erasable classes, the access zones) is
      // another fact.
      if (cls === DATA_CLASSES.length) return `data classes [${m.join(", ")}]`;
      return undefined;
    });
    expectOnlyPending("list", found);
  });

  it("does no erasure arithmetic outside the contract", function () {
    const sla = /^(erasureSlaDays|erasureSlaCeilingDays|sla|slaDays)$/;
    const named = (e: ts.Expression): boolean =>
      (ts.isIdentifier(e) && sla.test(e.text)) || (ts.isPropertyAccessExpression(e) && sla.test(e.name.text));
    const arithmetic = new Set([
      ts.SyntaxKind.MinusToken,
      ts.SyntaxKind.PlusToken,
      ts.SyntaxKind.AsteriskToken,
      ts.SyntaxKind.SlashToken,
    ]);
    const found = scan((n) =>
      ts.isBinaryExpression(n) && arithmetic.has(n.operatorToken.kind) && (named(n.left) || named(n.right))
        ? n.getText()
        : undefined,
    );
    expectOnlyPending("erasure arithmetic", found);
  });
});

describe("policy contract: stateful types", function () {
  it("is the one list the program protects and the pack checks", function () {
    expect(PROGRAM_STATEFUL).to.equal(STATEFUL_TYPES);
    expect([...deletionProtection.resourceTypes].sort()).to.deep.equal([...STATEFUL_TYPES].sort());
  });

  it("gives every stateful type protect and retainOnDelete, and nothing else", function () {
    const transform = protectStateful(true);
    const optsOf = (type: string) =>
      transform({ type, name: "x", props: {}, opts: {}, resource: undefined as unknown as pulumi.Resource })?.opts;
    for (const type of STATEFUL_TYPES) expect(optsOf(type), type).to.include({ protect: true, retainOnDelete: true });
    expect(optsOf("aws:sns/topic:Topic")).to.equal(undefined);
    expect(optsOf("gcp:pubsub/schema:Schema")).to.equal(undefined);
  });

  it("has the pack demand deletion protection on every stateful type in production", function () {
    for (const type of STATEFUL_TYPES) {
      // A log group is a record only when it holds audit logs (the rule's own exemption).
      const tags = { [TAG_KEYS.environment]: "prod", [TAG_KEYS.dataClassification]: "audit" };
      const r = view(type, "x", { tags, labels: tags });
      expect(run(deletionProtection, [r]), type).to.have.length(1);
      expect(run(deletionProtection, [{ ...r, protect: true }]), type).to.deep.equal([]);
    }
  });
});

/** A resource as a rule sees it, in a `br` jurisdiction. */
function view(type: string, name: string, props: Record<string, unknown>): ResourceView {
  return {
    type,
    name,
    urn: `urn:pulumi:test::lakehouse::${type}::${name}`,
    props,
    protect: false,
    dependencies: [],
    propertyDependencies: {},
  };
}

/** Runs one rule in process with the erasure SLA ceiling of `br` set to `sla`; returns its reports. */
function run(rule: ResourceRule | StackRule, resources: ResourceView[], sla?: number): string[] {
  const reports: string[] = [];
  const ctx: RuleContext = {
    settings: readSettings(sla === undefined ? {} : { jurisdictions: { br: { erasureSlaCeilingDays: sla } } }),
    report: (m) => reports.push(m),
    advise: () => undefined,
  };
  if (rule.kind === "stack") rule.validate(resources, ctx);
  else for (const r of resources) rule.validate(r, ctx);
  return reports;
}

const tagsOf = (cls: string) => ({ [TAG_KEYS.jurisdiction]: "br", [TAG_KEYS.dataClassification]: cls });

/** What the pack says of an S3 bucket whose noncurrent versions live `days` days. */
function s3NoncurrentReports(sla: number, days: number): string[] {
  return run(
    s3Retention,
    [
      view("aws:s3/bucket:Bucket", "raw", { bucket: "raw-bkt", tags: tagsOf("raw") }),
      view("aws:s3/bucketVersioning:BucketVersioning", "raw-versioning", {
        bucket: "raw-bkt",
        versioningConfiguration: { status: "Enabled" },
        tags: tagsOf("raw"),
      }),
      view("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "raw-lifecycle", {
        bucket: "raw-bkt",
        rules: [{ status: "Enabled", expiration: { days: 30 }, noncurrentVersionExpiration: { noncurrentDays: days } }],
        tags: tagsOf("raw"),
      }),
    ],
    sla,
  );
}

function gcsNoncurrentReports(sla: number, days: number): string[] {
  const bucket = view("gcp:storage/bucket:Bucket", "raw", {
    labels: tagsOf("raw"),
    versioning: { enabled: true },
    softDeletePolicy: { retentionDurationSeconds: 0 },
    lifecycleRules: [
      { action: { type: "Delete" }, condition: { age: 30 } },
      { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: days } },
    ],
  });
  return run(gcsRetention, [bucket], sla);
}

function icebergReports(sla: number, snapshotDays: number, orphanDays: number, runRateHours: number): string[] {
  const optimizer = (kind: string, configuration: Record<string, unknown>) =>
    view("aws:glue/catalogTableOptimizer:CatalogTableOptimizer", `orders-${kind}`, {
      type: kind,
      tags: tagsOf("curated"),
      configuration: { enabled: true, ...configuration },
    });
  return run(
    icebergSnapshotExpiry,
    [
      optimizer("retention", {
        retentionConfiguration: {
          icebergConfiguration: {
            snapshotRetentionPeriodInDays: snapshotDays,
            runRateInHours: runRateHours,
            cleanExpiredFiles: true,
          },
        },
      }),
      optimizer("orphan_file_deletion", {
        orphanFileDeletionConfiguration: {
          icebergConfiguration: { orphanFileRetentionPeriodInDays: orphanDays, runRateInHours: runRateHours },
        },
      }),
    ],
    sla,
  );
}

const topicReports = (sla: number, days: number): string[] =>
  run(
    streamRetention,
    [
      view("gcp:pubsub/topic:Topic", "events", {
        labels: tagsOf("clickstream"),
        messageRetentionDuration: `${days * 86_400}s`,
      }),
    ],
    sla,
  );

const datasetReports = (sla: number, hours: number): string[] =>
  run(
    bigqueryRetention,
    [
      view("gcp:bigquery/dataset:Dataset", "clickstream", {
        labels: tagsOf("clickstream"),
        location: "southamerica-east1",
        defaultPartitionExpirationMs: 30 * 86_400_000,
        maxTimeTravelHours: hours,
      }),
    ],
    sla,
  );

describe("policy contract: the erasure budget", function () {
  this.timeout(60_000);
  // The shortest SLA whose every object-copy stage has the 1 day lifecycle rules need.
  const slas = fc.integer({ min: LIVE_DELETION_DAYS + LIFECYCLE_LAG_DAYS + 1, max: 400 });

  it("splits the SLA into stages that add up to it", function () {
    fc.assert(
      fc.property(slas, (sla) => {
        const b = erasureBudget(sla);
        expect(b.liveDeletionDays + b.objectCopyDays + LIFECYCLE_LAG_DAYS).to.equal(sla);
        expect(b.liveDeletionDays + b.icebergMaintenanceDays).to.equal(sla);
        expect(b.liveDeletionDays + b.timeTravelDays + BIGQUERY_FAIL_SAFE_DAYS).to.equal(sla);
        expect(b.messageRetentionDays).to.equal(sla);
        for (const stage of [
          "objectCopyDays",
          "icebergMaintenanceDays",
          "timeTravelDays",
          "messageRetentionDays",
        ] as const) {
          const shortest = shortestErasureSla(stage, sla);
          expect(erasureBudget(shortest)[stage]).to.equal(sla);
          expect(erasureBudget(shortest - 1)[stage]).to.be.below(sla);
        }
      }),
    );
  });

  it("object versions: the program keeps them exactly as long as the pack allows", function () {
    fc.assert(
      fc.property(slas, (sla) => {
        const days = noncurrentDaysForErasure(sla);
        expect(days).to.equal(erasureBudget(sla).objectCopyDays);
        expect(s3NoncurrentReports(sla, days)).to.deep.equal([]);
        expect(s3NoncurrentReports(sla, days + 1)).to.have.length(1);
        expect(gcsNoncurrentReports(sla, days)).to.deep.equal([]);
        expect(gcsNoncurrentReports(sla, days + 1)).to.have.length(1);
        // Exports expire like object copies, sooner when they can.
        expect(exportExpirationDays(sla)).to.be.within(1, days);
      }),
    );
  });

  it("Iceberg: the program's maintenance is what the pack allows, up to its 7-day snapshot cap", function () {
    fc.assert(
      fc.property(slas, (sla) => {
        const m = maintenanceForSla(sla);
        const run_ = m.runRateHours / 24;
        expect(icebergReports(sla, m.snapshotRetentionDays, m.orphanFileRetentionDays, m.runRateHours)).to.deep.equal(
          [],
        );
        const budget = erasureBudget(sla).icebergMaintenanceDays;
        if (m.snapshotRetentionDays < 7) {
          expect(m.snapshotRetentionDays + run_).to.equal(budget);
          expect(
            icebergReports(sla, m.snapshotRetentionDays + 1, m.orphanFileRetentionDays, m.runRateHours),
          ).to.have.length(1);
        } else expect(m.snapshotRetentionDays + run_).to.be.at.most(budget);
        expect(m.orphanFileRetentionDays + run_).to.be.at.most(budget);
      }),
    );
  });

  it("Pub/Sub: the replay window is what the pack allows, up to Pub/Sub's 31 days", function () {
    fc.assert(
      fc.property(slas, (sla) => {
        const days = replayWindowDays({ retentionDays: 1000, erasureSlaDays: sla, replayDays: 1000 });
        expect(days).to.equal(Math.min(31, erasureBudget(sla).messageRetentionDays));
        expect(topicReports(sla, days)).to.deep.equal([]);
        if (days < 31) expect(topicReports(sla, days + 1)).to.have.length(1);
      }),
    );
  });

  it("BigQuery: the pack allows exactly the budget's time travel", function () {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), (sla) => {
        const days = erasureBudget(sla).timeTravelDays;
        const allowed = (h: number) => h >= TIME_TRAVEL_HOURS.min && h <= TIME_TRAVEL_HOURS.max;
        for (const h of [days * 24, (days + 1) * 24].filter(allowed)) {
          expect(datasetReports(sla, h), `${h} h`).to.have.length(h / 24 > days ? 1 : 0);
        }
      }),
    );
  });

  it("explains a stage that fits the SLA but not its budget", function () {
    expect(s3NoncurrentReports(15, 13)).to.deep.equal([
      "aws:s3/bucket:Bucket 'raw' keeps noncurrent versions 13 days; the LGPD erasure SLA of 15 days leaves 12 after 1 day to delete the live copy and 2 days for lifecycle to act.",
    ]);
    expect(datasetReports(14, 168)).to.deep.equal([
      "gcp:bigquery/dataset:Dataset 'clickstream' keeps erased rows 14 days (time travel 7 + fail-safe 7); the LGPD erasure SLA of 14 days leaves 13 after 1 day to delete the live rows.",
    ]);
    expect(icebergReports(15, 14, 3, 24)).to.deep.equal([
      "aws:glue/catalogTableOptimizer:CatalogTableOptimizer 'orders-retention' keeps snapshots 14 days (+1 between runs); the LGPD erasure SLA of 15 days leaves 14 after 1 day to delete the live rows.",
    ]);
  });
});
