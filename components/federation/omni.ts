/**
 * BigQuery Omni over the cell's Iceberg lake (eu cells): a BigQuery connection in the Omni location
 * paired with the cell's AWS region, the AWS IAM role it assumes, the Lake Formation grants that role
 * needs, and a Glue-federated BigQuery dataset (`lake`) mirroring the curated Glue database, so the
 * Iceberg tables appear in BigQuery without a copy and the data is processed in AWS eu-west-1.
 *
 * The role and the connection would depend on each other (the connection names the role, the role
 * trusts the connection's identity), so the role ARN is built as a string from the account and the
 * role name, the connection is created first and the role's trust policy waits on its identity.
 * Limits and the compensating control for Omni's missing CMEK: ./README.md.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import {
  glueTables,
  lakeFormationDataAccess,
  policyDocument,
  readObjects,
  useKey,
  type Statement,
} from "../aws/iam/statements";
import { classification } from "../conventions";
import { listPrefixesWithLocation } from "./athena-schedule";
import { googleIdentityTrust } from "./google-trust";
import { OMNI_ROLE_MAX_SESSION_SECONDS } from "./limits";

export interface OmniFederationArgs {
  /** `lakehouse-<environment>-<cell>`: the role name and the connection id start with it. */
  readonly resourcePrefix: string;
  /** The cell (`eu`), for descriptions. */
  readonly cell: string;
  /** The cell's AWS account. */
  readonly accountId: string;
  /** The cell's AWS region (`eu-west-1`). */
  readonly awsRegion: string;
  /** The Omni location paired with it (`aws-eu-west-1`), from OMNI_AWS_REGIONS. */
  readonly omniLocation: string;
  /** The cell's GCP project (connection and dataset). */
  readonly project: string;
  /** The curated Glue database the federated dataset mirrors. */
  readonly curatedDatabaseName: pulumi.Input<string>;
  /** Warehouse bucket ARN; the curated Iceberg tables live under `curated/`. */
  readonly warehouseBucketArn: pulumi.Input<string>;
  /** The lake KMS key the warehouse objects are encrypted with (SSE-KMS). */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** BigQuery dataset id of the federated dataset. @default "lake" */
  readonly datasetId?: string;
  /** Keep the federated dataset from being deleted with the stack (`lakehouse:protect`). */
  readonly protect: boolean;
}

/** The Glue database reference BigQuery expects in `externalDatasetReference.externalSource`. */
export const glueExternalSource = (region: string, accountId: string, database: string): string =>
  `aws-glue://arn:aws:glue:${region}:${accountId}:database/${database}`;

/** The Omni role's policy: read-only curated lake (objects, catalog, Lake Formation credentials, key). */
export function omniStatements(args: OmniFederationArgs): Statement[] {
  const scope = { region: args.awsRegion, accountId: args.accountId };
  return [
    listPrefixesWithLocation("ListCuratedPrefix", args.warehouseBucketArn, ["curated/"]),
    readObjects("ReadCuratedObjects", args.warehouseBucketArn, "curated/"),
    // The Glue statement of "Create AWS Glue federated datasets" (BigQuery docs), scoped to curated.
    glueTables(
      "GlueCuratedCatalog",
      ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"],
      scope,
      args.curatedDatabaseName,
    ),
    lakeFormationDataAccess("LakeFormationCredentials"),
    useKey("DecryptLake", args.lakeKeyArn, ["kms:Decrypt", "kms:DescribeKey"]),
  ];
}

export class OmniFederation extends pulumi.ComponentResource {
  public readonly connection: gcp.bigquery.Connection;
  public readonly role: aws.iam.Role;
  public readonly dataset: gcp.bigquery.Dataset;
  /** The federated dataset id; resolves once the role, its policy and the Lake Formation grants exist. */
  public readonly datasetId: pulumi.Output<string>;

  constructor(name: string, args: OmniFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:OmniFederation", name, args, opts);
    const roleName = `${args.resourcePrefix}-bigquery-omni`;
    // Built, not read from the role: the connection must exist before the role can trust its identity.
    const roleArn = `arn:aws:iam::${args.accountId}:role/${roleName}`;

    this.connection = new gcp.bigquery.Connection(
      `${name}-connection`,
      {
        project: args.project,
        connectionId: `${args.resourcePrefix}_omni`.replace(/-/g, "_"),
        location: args.omniLocation,
        friendlyName: `Omni ${args.cell} lake`,
        description: `BigQuery Omni in ${args.omniLocation} reading the ${args.cell} Iceberg lake in ${args.awsRegion}`,
        aws: { accessRole: { iamRoleId: roleArn } },
      },
      { parent: this },
    );
    const identity = this.connection.aws.apply((a) => {
      const id = a?.accessRole.identity;
      if (!id) throw new Error(`BigQuery connection ${name} returned no AWS access-role identity`);
      return id;
    });
    const access = this.lakeAccess(name, args, roleName, identity);
    this.role = access.role;

    this.dataset = new gcp.bigquery.Dataset(
      `${name}-dataset`,
      {
        project: args.project,
        datasetId: args.datasetId ?? "lake",
        // A federated dataset lives in the Omni location of its connection.
        location: args.omniLocation,
        description: `Curated Iceberg tables of cell ${args.cell}, federated from AWS Glue through BigQuery Omni (no copy)`,
        externalDatasetReference: {
          externalSource: pulumi
            .output(args.curatedDatabaseName)
            .apply((d) => glueExternalSource(args.awsRegion, args.accountId, d)),
          connection: this.connection.id,
        },
        // No defaultEncryptionConfiguration: Omni datasets do not support CMEK; the data stays in S3 under
        // the lake key (compensating control, README). No expiration: the tables are the lake's.
        deleteContentsOnDestroy: false,
        deletionPolicy: args.protect ? "PREVENT" : "DELETE",
        labels: classification("curated"),
      },
      { parent: this, dependsOn: access.ready },
    );
    this.datasetId = this.dataset.datasetId;
    this.registerOutputs({ connection: this.connection.id, roleArn: this.role.arn, datasetId: this.datasetId });
  }

  /** The role the connection assumes, its policy and its Lake Formation grants (`ready`: what the dataset waits for). */
  private lakeAccess(
    name: string,
    args: OmniFederationArgs,
    roleName: string,
    identity: pulumi.Output<string>,
  ): { role: aws.iam.Role; ready: pulumi.Resource[] } {
    const { accountId } = args;
    const db = args.curatedDatabaseName;
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: roleName,
        description: `Assumed by BigQuery Omni connection ${args.omniLocation} of cell ${args.cell}: read-only curated lake`,
        // Omni's requirement: the role must allow 12-hour sessions ("Connect to Amazon S3", Omni docs).
        maxSessionDuration: OMNI_ROLE_MAX_SESSION_SECONDS,
        // Only this connection's Google identity, not any Google principal.
        assumeRolePolicy: googleIdentityTrust(identity, "BigQueryOmniConnection"),
        tags: classification("curated"),
      },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-read-curated`,
      { role: role.name, policy: policyDocument(omniStatements(args)) },
      { parent: this },
    );
    // Lake Formation decides what the Glue calls return (the catalog has no IAMAllowedPrincipals defaults).
    const dbGrant = new aws.lakeformation.Permissions(
      `${name}-curated-database`,
      {
        principal: role.arn,
        catalogId: accountId,
        permissions: ["DESCRIBE"],
        database: { catalogId: accountId, name: db },
      },
      { parent: this },
    );
    const tableGrant = new aws.lakeformation.Permissions(
      `${name}-curated-tables`,
      {
        principal: role.arn,
        catalogId: accountId,
        permissions: ["SELECT", "DESCRIBE"],
        table: { catalogId: accountId, databaseName: db, wildcard: true },
      },
      { parent: this },
    );
    return { role, ready: [policy, dbGrant, tableGrant] };
  }
}
