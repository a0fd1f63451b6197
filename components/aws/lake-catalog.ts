/**
 * The cell's Glue Data Catalog: catalog-wide encryption with the lake key (metadata holds column names
 * and statistics, which can be personal data), the `raw`, `curated` and `marts` databases, and Lake
 * Formation in its own permission model (no IAMAllowedPrincipals default grants), so that column-level
 * LF-tag control over direct identifiers actually applies.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../conventions";

export const CATALOG_ZONES = ["raw", "curated", "marts"] as const;
export type CatalogZone = (typeof CATALOG_ZONES)[number];

export interface LakeCatalogArgs {
  readonly accountId: string;
  /** Prefix of the Glue database names, e.g. `prod_br` -> `prod_br_raw`. */
  readonly databasePrefix: string;
  readonly kmsKeyArn: pulumi.Input<string>;
  /** S3 locations per zone (`s3://bucket/prefix`). */
  readonly locations: Readonly<Record<CatalogZone, pulumi.Input<string>>>;
  /** Lake Formation administrators (IAM role ARNs of this account). */
  readonly admins: readonly string[];
}

export class LakeCatalog extends pulumi.ComponentResource {
  public readonly databases: Readonly<Record<CatalogZone, aws.glue.CatalogDatabase>>;
  public readonly databaseNames: Readonly<Record<CatalogZone, pulumi.Output<string>>>;

  constructor(name: string, args: LakeCatalogArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:LakeCatalog", name, args, opts);
    const encryption = new aws.glue.DataCatalogEncryptionSettings(
      `${name}-encryption`,
      {
        catalogId: args.accountId,
        dataCatalogEncryptionSettings: {
          encryptionAtRest: { catalogEncryptionMode: "SSE-KMS", sseAwsKmsKeyId: args.kmsKeyArn },
          connectionPasswordEncryption: { returnConnectionPasswordEncrypted: true, awsKmsKeyId: args.kmsKeyArn },
        },
      },
      { parent: this },
    );
    const settings = new aws.lakeformation.DataLakeSettings(
      `${name}-lake-formation`,
      {
        catalogId: args.accountId,
        admins: [...args.admins],
        // Empty defaults switch new databases and tables to Lake Formation permissions only.
        createDatabaseDefaultPermissions: [],
        createTableDefaultPermissions: [],
        // External engines (Omni, EMR) must be registered explicitly, never trusted by default.
        allowExternalDataFiltering: false,
      },
      { parent: this },
    );
    const dbs = {} as Record<CatalogZone, aws.glue.CatalogDatabase>;
    for (const zone of CATALOG_ZONES) {
      dbs[zone] = new aws.glue.CatalogDatabase(
        `${name}-${zone}`,
        {
          catalogId: args.accountId,
          name: `${args.databasePrefix}_${zone}`,
          description: `${zone} zone of the lake`,
          locationUri: args.locations[zone],
          createTableDefaultPermissions: [],
          tags: classification(zone === "marts" ? "marts" : zone),
        },
        { parent: this, dependsOn: [encryption, settings] },
      );
    }
    this.databases = dbs;
    this.databaseNames = {
      raw: dbs.raw.name,
      curated: dbs.curated.name,
      marts: dbs.marts.name,
    };
    this.registerOutputs({ databaseNames: this.databaseNames });
  }
}
