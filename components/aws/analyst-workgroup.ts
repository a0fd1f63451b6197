/**
 * The Athena workgroup analysts query the lake through: engine v3 (Iceberg MERGE, time travel),
 * results forced into the query-results bucket encrypted with the lake key, and a per-query
 * bytes-scanned cutoff from the scale config so one bad query can't scan the lake.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AnalystWorkgroupArgs {
  /** Physical Athena workgroup name. */
  readonly workgroupName: string;
  /** `s3://bucket/prefix/` for results. */
  readonly outputLocation: pulumi.Input<string>;
  /** The key query results are encrypted with (SSE-KMS, enforced on every client). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Bytes one query may scan before Athena cancels it (at least 10 MB, Athena's minimum). */
  readonly bytesScannedCutoffPerQuery: number;
}

export class AnalystWorkgroup extends pulumi.ComponentResource {
  public readonly workgroup: aws.athena.Workgroup;
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: AnalystWorkgroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:AnalystWorkgroup", name, args, opts);
    this.workgroup = new aws.athena.Workgroup(
      name,
      {
        name: args.workgroupName,
        state: "ENABLED",
        forceDestroy: false,
        configuration: {
          // Clients cannot override the result location or its encryption.
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          bytesScannedCutoffPerQuery: args.bytesScannedCutoffPerQuery,
          engineVersion: { selectedEngineVersion: "Athena engine version 3" },
          resultConfiguration: {
            outputLocation: args.outputLocation,
            encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: args.kmsKeyArn },
          },
        },
      },
      { parent: this },
    );
    this.name = this.workgroup.name;
    this.registerOutputs({ name: this.name });
  }
}
