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
  /** The account whose Glue Data Catalog the databases live in. */
  readonly accountId: string;
  /** Prefix of the Glue database names, e.g. `prod_br` -> `prod_br_raw`. */
  readonly databasePrefix: string;
  /** The lake key: encrypts the catalog's metadata and connection passwords. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** S3 locations per zone (`s3://bucket/prefix`). */
  readonly locations: Readonly<Record<CatalogZone, pulumi.Input<string>>>;
  /**
   * The IAM role that deploys the cell (the cell's AWS provider assumes it). Always a data lake
   * administrator: only an administrator (or a holder of the grant option) may grant Lake Formation
   * permissions, create databases in a Lake-Formation-only catalog or change these settings.
   */
  readonly deployRoleArn: string;
  /** Further Lake Formation administrators (IAM role ARNs of this account), e.g. platform engineers. */
  readonly admins: readonly string[];
}

/**
 * The administrators the settings declare: the deployer first, then the others, without duplicates.
 * `PutDataLakeSettings` REPLACES the list ("This API replaces the current list of data lake admins with
 * the new list being passed", Lake Formation API reference, PutDataLakeSettings), so a list without the
 * deployer would revoke its own right to make every grant that follows.
 */
export const lakeAdminsWithDeployer = (deployRoleArn: string, admins: readonly string[]): string[] => [
  ...new Set([deployRoleArn, ...admins]),
];

export class LakeCatalog extends pulumi.ComponentResource {
  public readonly databases: Readonly<Record<CatalogZone, aws.glue.CatalogDatabase>>;
  public readonly databaseNames: Readonly<Record<CatalogZone, pulumi.Output<string>>>;
  /** The Lake Formation settings; every database (and so every grant naming one) waits on them. */
  public readonly settings: aws.lakeformation.DataLakeSettings;

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
        admins: lakeAdminsWithDeployer(args.deployRoleArn, args.admins),
        // Empty defaults switch new databases and tables to Lake Formation permissions only (no
        // IAMAllowedPrincipals grant; LF developer guide, "Changing the default settings for your data
        // lake"). They do not limit the deployer: an administrator may create databases and grant on any
        // resource, and a creator holds all permissions on what it creates (LF developer guide,
        // "Implicit Lake Formation permissions").
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
    this.settings = settings;
    this.databases = dbs;
    this.databaseNames = {
      raw: dbs.raw.name,
      curated: dbs.curated.name,
      marts: dbs.marts.name,
    };
    this.registerOutputs({ databaseNames: this.databaseNames });
  }
}
