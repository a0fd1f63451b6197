/**
 * Persona access on AWS for one cell, built from `PERSONA_MATRIX`: one IAM role per persona that has
 * AWS principals in the cell's account, with named actions only, and Lake Formation grants per zone
 * database. The catalog runs in Lake Formation's own permission model (no IAMAllowedPrincipals
 * defaults, see components/aws/lake-catalog.ts), so a Glue/Athena read needs both the IAM policy and
 * the Lake Formation grant: a persona reaches exactly the zones the matrix gives it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  allow,
  glueCatalogArn,
  glueDatabaseArn,
  glueTableArn,
  lakeFormationDataAccess,
  policyDocument,
  S3_READ,
  useKey,
  type Statement,
} from "../aws/iam/statements";
import type { PersonaId, LakehouseConfig } from "../config/schema";
import { PERSONAS } from "../config/schema";
import { runAthenaQueries, writeQueryOutput } from "./athena-schedule";
import { PERSONA_MATRIX, type Zone } from "./persona-matrix";

/** The AWS zones (clickstream lives in BigQuery only). */
export const AWS_ZONES = ["raw", "curated", "marts", "audit"] as const satisfies readonly Zone[];
export type AwsZone = (typeof AWS_ZONES)[number];
type LakeZone = Exclude<AwsZone, "audit">;

export interface AwsPersonaAccessArgs {
  /** `lakehouse-<environment>-<cell>`: persona role names are `<resourcePrefix>-<persona>`. */
  readonly resourcePrefix: string;
  /** The cell, for role descriptions. */
  readonly cell: string;
  /** The cell's AWS account: only principals of this account may assume a persona role. */
  readonly accountId: string;
  /** The cell's AWS region. */
  readonly region: string;
  /** `lakehouse:personas`. */
  readonly personas: LakehouseConfig["personas"];
  /** Glue database names per lake zone. */
  readonly databases: Readonly<Record<LakeZone, pulumi.Input<string>>>;
  /** S3 object ARN prefixes per zone, e.g. `arn:aws:s3:::<warehouse>/curated/` (no trailing `*`). */
  readonly zonePrefixes: Readonly<Record<AwsZone, pulumi.Input<string>>>;
  /** Bucket ARNs per zone (for `s3:ListBucket`). */
  readonly zoneBuckets: Readonly<Record<AwsZone, pulumi.Input<string>>>;
  /** The lake KMS key (raw, curated and marts objects). */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The logs KMS key (the audit trail). */
  readonly logsKeyArn: pulumi.Input<string>;
  /** The analysts' Athena workgroup name. */
  readonly workgroupName: pulumi.Input<string>;
  /** The query-results bucket ARN; personas write their results under `athena/`. */
  readonly queryResultsBucketArn: pulumi.Input<string>;
}

/** `dataEngineers` -> `data-engineers`. */
export const kebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

/** Zones a persona reaches on AWS (standing or break-glass: the break-glass role is itself the JIT path). */
export function awsZonesOf(persona: PersonaId): AwsZone[] {
  return AWS_ZONES.filter((z) => PERSONA_MATRIX[persona][z] !== "none");
}

/** The persona's AWS principals that belong to the cell's account (a cell trusts only its own account). */
export function cellPrincipals(config: LakehouseConfig["personas"], persona: PersonaId, accountId: string): string[] {
  return (config[persona]?.awsPrincipals ?? []).filter((arn) => arn.startsWith(`arn:aws:iam::${accountId}:`));
}

/** Break-glass sessions last one hour; standing personas get a working day at most. */
const SESSION_SECONDS = { breakGlass: 3600, standing: 4 * 3600 } as const;

/** The persona role's trust policy: its principals only; break-glass only with a second factor. */
export function personaTrustPolicy(principals: readonly string[], breakGlass: boolean): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "PersonaPrincipals",
        Effect: "Allow",
        Principal: { AWS: principals },
        Action: "sts:AssumeRole",
        // Break-glass needs a second factor; CloudTrail records the AssumeRole with the caller.
        ...(breakGlass ? { Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } } : {}),
      },
    ],
  });
}

/** Query the lake zones through the analysts' workgroup: catalog, objects, results, key, and prefix lists. */
function lakeStatements(args: AwsPersonaAccessArgs, lakeZones: readonly LakeZone[]): Statement[] {
  const scope = { region: args.region, accountId: args.accountId };
  const dbs = lakeZones.map((z) => args.databases[z]);
  return [
    runAthenaQueries("AthenaWorkgroup", scope, args.workgroupName, [
      "athena:StartQueryExecution",
      "athena:StopQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:GetQueryResultsStream",
      "athena:GetWorkGroup",
      "athena:ListQueryExecutions",
    ]),
    allow(
      "GlueCatalogRead",
      [
        "glue:GetDatabase",
        "glue:GetDatabases",
        "glue:GetTable",
        "glue:GetTables",
        "glue:GetPartition",
        "glue:GetPartitions",
      ],
      [
        glueCatalogArn(scope),
        ...dbs.map((db) => glueDatabaseArn(scope, db)),
        ...dbs.map((db) => glueTableArn(scope, db, "*")),
      ],
    ),
    lakeFormationDataAccess("LakeFormationCredentials"),
    allow(
      "ZoneObjectsRead",
      S3_READ,
      lakeZones.map((z) => pulumi.interpolate`${args.zonePrefixes[z]}*`),
    ),
    writeQueryOutput("QueryResults", args.queryResultsBucketArn, "athena/", [
      "s3:GetObject",
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:ListBucket",
      "s3:GetBucketLocation",
    ]),
    useKey("LakeKey", args.lakeKeyArn, ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]),
    ...lakeZones.map((z) =>
      allow(
        `List${z.charAt(0).toUpperCase()}${z.slice(1)}`,
        ["s3:ListBucket", "s3:GetBucketLocation"],
        args.zoneBuckets[z],
        {
          StringLike: {
            "s3:prefix": pulumi
              .output(args.zonePrefixes[z])
              .apply((p) => `${p.replace(/^arn:aws:s3:::[^/]+\/?/, "")}*`),
          },
        },
      ),
    ),
  ];
}

/** Read the CloudTrail trail and look up management events. */
function auditStatements(args: AwsPersonaAccessArgs): Statement[] {
  return [
    allow("AuditTrailRead", S3_READ, pulumi.interpolate`${args.zonePrefixes.audit}*`),
    allow("AuditBucketList", ["s3:ListBucket"], args.zoneBuckets.audit),
    useKey("AuditKey", args.logsKeyArn, ["kms:Decrypt", "kms:DescribeKey"]),
    // LookupEvents has no resource-level permissions (CloudTrail service authorization reference).
    allow("ManagementEvents", ["cloudtrail:LookupEvents"], "*"),
  ];
}

/** The persona role's policy for the zones it reaches: named actions only. */
export function personaStatements(args: AwsPersonaAccessArgs, zones: readonly AwsZone[]): Statement[] {
  const lakeZones = zones.filter((z): z is LakeZone => z !== "audit");
  return [
    ...(lakeZones.length > 0 ? lakeStatements(args, lakeZones) : []),
    ...(zones.includes("audit") ? auditStatements(args) : []),
  ];
}

export class AwsPersonaAccess extends pulumi.ComponentResource {
  /** Persona roles by persona id (only personas with principals in the cell's account). */
  public readonly roles: Readonly<Partial<Record<PersonaId, aws.iam.Role>>>;

  constructor(name: string, args: AwsPersonaAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:AwsPersonaAccess", name, args, opts);
    const roles: Partial<Record<PersonaId, aws.iam.Role>> = {};
    for (const persona of PERSONAS) {
      const principals = cellPrincipals(args.personas, persona, args.accountId);
      const zones = awsZonesOf(persona);
      if (principals.length === 0 || zones.length === 0) continue;
      roles[persona] = this.personaRole(name, args, persona, principals, zones);
    }
    this.roles = roles;
    this.registerOutputs({ roles: Object.fromEntries(Object.entries(roles).map(([k, r]) => [k, r?.arn])) });
  }

  /** One persona's role, its policy and its Lake Formation grants per lake zone. */
  private personaRole(
    name: string,
    args: AwsPersonaAccessArgs,
    persona: PersonaId,
    principals: readonly string[],
    zones: readonly AwsZone[],
  ): aws.iam.Role {
    const breakGlass = zones.some((z) => PERSONA_MATRIX[persona][z] === "break-glass");
    const id = kebab(persona);
    const role = new aws.iam.Role(
      `${name}-${id}`,
      {
        name: `${args.resourcePrefix}-${id}`,
        description: `${persona} of cell ${args.cell}: ${zones.join(", ")} (components/federation/persona-matrix.ts)`,
        maxSessionDuration: breakGlass ? SESSION_SECONDS.breakGlass : SESSION_SECONDS.standing,
        assumeRolePolicy: personaTrustPolicy(principals, breakGlass),
        tags: { persona: id, "break-glass": String(breakGlass) },
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-${id}-access`,
      { role: role.name, policy: policyDocument(personaStatements(args, zones)) },
      { parent: this },
    );
    const catalogId = args.accountId;
    for (const z of zones.filter((zone): zone is LakeZone => zone !== "audit")) {
      new aws.lakeformation.Permissions(
        `${name}-${id}-${z}-database`,
        {
          principal: role.arn,
          catalogId,
          permissions: ["DESCRIBE"],
          database: { catalogId, name: args.databases[z] },
        },
        { parent: this },
      );
      new aws.lakeformation.Permissions(
        `${name}-${id}-${z}-tables`,
        {
          principal: role.arn,
          catalogId,
          permissions: ["SELECT", "DESCRIBE"],
          table: { catalogId, databaseName: args.databases[z], wildcard: true },
        },
        { parent: this },
      );
    }
    return role;
  }
}
