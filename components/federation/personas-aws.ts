/**
 * Persona access on AWS for one cell, built from `PERSONA_MATRIX`: one IAM role per persona that has
 * AWS principals in the cell's account, with named actions only, and Lake Formation grants per zone
 * database. The catalog runs in Lake Formation's own permission model (no IAMAllowedPrincipals
 * defaults, see components/aws/lake-catalog.ts), so a Glue/Athena read needs both the IAM policy and
 * the Lake Formation grant: a persona reaches exactly the zones the matrix gives it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PersonaId, LakehouseConfig } from "../config/schema";
import { PERSONAS } from "../config/schema";
import { PERSONA_MATRIX, type Zone } from "./persona-matrix";

/** The AWS zones (clickstream lives in BigQuery only). */
export const AWS_ZONES = ["raw", "curated", "marts", "audit"] as const satisfies readonly Zone[];
export type AwsZone = (typeof AWS_ZONES)[number];
type LakeZone = Exclude<AwsZone, "audit">;

export interface AwsPersonaAccessArgs {
  /** `lakehouse-<environment>`. */
  readonly namePrefix: string;
  readonly cell: string;
  readonly accountId: string;
  readonly region: string;
  /** `lakehouse:personas`. */
  readonly personas: LakehouseConfig["personas"];
  /** Glue database names per lake zone. */
  readonly databases: Readonly<Record<LakeZone, pulumi.Input<string>>>;
  /** S3 object ARN prefixes per zone, e.g. `arn:aws:s3:::<warehouse>/curated/` (no trailing `*`). */
  readonly zonePrefixes: Readonly<Record<AwsZone, pulumi.Input<string>>>;
  /** Bucket ARNs per zone (for `s3:ListBucket`). */
  readonly zoneBuckets: Readonly<Record<AwsZone, pulumi.Input<string>>>;
  /** The lake KMS key (data) and the logs key (audit). */
  readonly lakeKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
  /** The analysts' Athena workgroup name and its query-results bucket ARN. */
  readonly workgroupName: pulumi.Input<string>;
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

export class AwsPersonaAccess extends pulumi.ComponentResource {
  /** Persona roles by persona id (only personas with principals in the cell's account). */
  public readonly roles: Readonly<Partial<Record<PersonaId, aws.iam.Role>>>;

  constructor(name: string, args: AwsPersonaAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:AwsPersonaAccess", name, args, opts);
    const roles: Partial<Record<PersonaId, aws.iam.Role>> = {};
    const { accountId, region } = args;
    const catalogArn = `arn:aws:glue:${region}:${accountId}:catalog`;

    for (const persona of PERSONAS) {
      const principals = cellPrincipals(args.personas, persona, accountId);
      const zones = awsZonesOf(persona);
      if (principals.length === 0 || zones.length === 0) continue;
      const breakGlass = zones.some((z) => PERSONA_MATRIX[persona][z] === "break-glass");
      const id = kebab(persona);
      const roleName = `${args.namePrefix}-${args.cell}-${id}`;

      const role = new aws.iam.Role(
        `${name}-${id}`,
        {
          name: roleName,
          description: `${persona} of cell ${args.cell}: ${zones.join(", ")} (components/federation/persona-matrix.ts)`,
          maxSessionDuration: breakGlass ? SESSION_SECONDS.breakGlass : SESSION_SECONDS.standing,
          assumeRolePolicy: JSON.stringify({
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
          }),
          tags: { persona: id, "break-glass": String(breakGlass) },
        },
        { parent: this },
      );
      roles[persona] = role;

      const lakeZones = zones.filter((z): z is LakeZone => z !== "audit");
      const statements: pulumi.Input<Record<string, unknown>>[] = [];
      if (lakeZones.length > 0) {
        const dbs = lakeZones.map((z) => args.databases[z]);
        statements.push(
          {
            Sid: "AthenaWorkgroup",
            Effect: "Allow",
            Action: [
              "athena:StartQueryExecution",
              "athena:StopQueryExecution",
              "athena:GetQueryExecution",
              "athena:GetQueryResults",
              "athena:GetQueryResultsStream",
              "athena:GetWorkGroup",
              "athena:ListQueryExecutions",
            ],
            Resource: pulumi.interpolate`arn:aws:athena:${region}:${accountId}:workgroup/${args.workgroupName}`,
          },
          {
            Sid: "GlueCatalogRead",
            Effect: "Allow",
            Action: [
              "glue:GetDatabase",
              "glue:GetDatabases",
              "glue:GetTable",
              "glue:GetTables",
              "glue:GetPartition",
              "glue:GetPartitions",
            ],
            Resource: [
              catalogArn,
              ...dbs.map((db) => pulumi.interpolate`arn:aws:glue:${region}:${accountId}:database/${db}`),
              ...dbs.map((db) => pulumi.interpolate`arn:aws:glue:${region}:${accountId}:table/${db}/*`),
            ],
          },
          {
            // GetDataAccess has no resource-level permissions; Lake Formation grants decide what it vends.
            Sid: "LakeFormationCredentials",
            Effect: "Allow",
            Action: ["lakeformation:GetDataAccess"],
            Resource: "*",
          },
          {
            Sid: "ZoneObjectsRead",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: lakeZones.map((z) => pulumi.interpolate`${args.zonePrefixes[z]}*`),
          },
          {
            Sid: "QueryResults",
            Effect: "Allow",
            Action: [
              "s3:GetObject",
              "s3:PutObject",
              "s3:AbortMultipartUpload",
              "s3:ListBucket",
              "s3:GetBucketLocation",
            ],
            Resource: [args.queryResultsBucketArn, pulumi.interpolate`${args.queryResultsBucketArn}/athena/*`],
          },
          {
            Sid: "LakeKey",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            Resource: args.lakeKeyArn,
          },
        );
        for (const z of lakeZones) {
          statements.push({
            Sid: `List${z.charAt(0).toUpperCase()}${z.slice(1)}`,
            Effect: "Allow",
            Action: ["s3:ListBucket", "s3:GetBucketLocation"],
            Resource: args.zoneBuckets[z],
            Condition: {
              StringLike: {
                "s3:prefix": pulumi
                  .output(args.zonePrefixes[z])
                  .apply((p) => `${p.replace(/^arn:aws:s3:::[^/]+\/?/, "")}*`),
              },
            },
          });
        }
      }
      if (zones.includes("audit")) {
        statements.push(
          {
            Sid: "AuditTrailRead",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: pulumi.interpolate`${args.zonePrefixes.audit}*`,
          },
          { Sid: "AuditBucketList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: args.zoneBuckets.audit },
          { Sid: "AuditKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: args.logsKeyArn },
          {
            // LookupEvents has no resource-level permissions (CloudTrail service authorization reference).
            Sid: "ManagementEvents",
            Effect: "Allow",
            Action: ["cloudtrail:LookupEvents"],
            Resource: "*",
          },
        );
      }
      new aws.iam.RolePolicy(
        `${name}-${id}-access`,
        { role: role.name, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }) },
        { parent: this },
      );

      for (const z of lakeZones) {
        const catalogId = accountId;
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
    }
    this.roles = roles;
    this.registerOutputs({ roles: Object.fromEntries(Object.entries(roles).map(([k, r]) => [k, r?.arn])) });
  }
}
