/**
 * What every AWS source family of a cell (event streams, Cassandra, Elasticsearch, CSV feeds, external
 * APIs) lands into and reports to: made once by the cell's other layers and handed to each source
 * component, so a source never creates its own key, bucket, network or alert topic.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { SourceCredential } from "../../config/load";
import type { Retention } from "../../config/schema";
import type { Sizing } from "../../config/sizing";
import type { IngestionAlerts } from "../ingestion/alerts";
import type { IngestionNetwork } from "../ingestion/network";
import type { BucketRef } from "../ingestion/transactional-ingestion";
import type { PersonalDataCatalog } from "../../privacy/personal-data";

export interface AwsSourceContext {
  /** `lakehouse-<env>-<cell>`: the start of every physical name a source makes (S3- and IAM-safe). */
  readonly resourcePrefix: string;
  /** The cell (`br`, `eu`). */
  readonly cell: string;
  /** The cell's AWS account. */
  readonly accountId: string;
  /** The cell's AWS region: every source resource lives here. */
  readonly region: string;
  /** The cell's lake key: data at rest (objects, secrets, streams, tables, cursors). */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The cell's logs key: log groups. */
  readonly logsKeyArn: pulumi.Input<string>;
  /** The landing bucket: files as they arrive, under `<kind>/<source>/` (csv/, api/), kept `retention.raw` days. */
  readonly landing: BucketRef;
  /** The raw bucket: extracted and validated files and quarantines, kept `retention.raw` days. */
  readonly raw: BucketRef;
  /** The warehouse bucket: the Iceberg tables, under `curated/`. */
  readonly warehouse: BucketRef;
  /** The raw Glue database (external tables over raw and landing files). */
  readonly rawDatabaseName: pulumi.Input<string>;
  /** The curated Glue database (the sources' Iceberg tables). */
  readonly curatedDatabaseName: pulumi.Input<string>;
  /** The cell's Athena workgroup for scheduled loads (`AnalystWorkgroup`), and its name. */
  readonly workgroupName: pulumi.Input<string>;
  /**
   * The cell's private ingestion VPC (no internet; VPC endpoints), created on first call and shared with
   * the transactional sources. Call it only when the source runs inside the VPC.
   */
  readonly network: () => IngestionNetwork;
  /** The cell's ingestion alert topic (SNS, own CMK; CloudWatch alarms and EventBridge may publish). */
  readonly alerts: IngestionAlerts;
  /** `lakehouse:sourceCredentials`, by name; each password a secret Output. */
  readonly credentials: Readonly<Record<string, SourceCredential>>;
  /** The cell's pseudonymisation key in Secrets Manager (HMAC of subject identifiers). */
  readonly pseudonymisationSecretArn: pulumi.Input<string>;
  /** Retention per data class, days. */
  readonly retention: Retention;
  /** The erasure SLA, days: bounds snapshot expiry and orphan cleanup of the sources' Iceberg tables. */
  readonly erasureSlaDays: number;
  /** Sizes derived from `lakehouse:scale`. */
  readonly sizing: Sizing;
  /** Production: multi-AZ where the service offers it. */
  readonly multiAz: boolean;
  /** Protect stateful resources. */
  readonly protect: boolean;
  /**
   * The cell's registry of personal data: each source declares its tables with pseudonym columns and its
   * landing/raw prefixes holding personal data there (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: PersonalDataCatalog;
}
