/**
 * Pieces of the NoSQL extraction (./nosql-extract.ts) kept as functions: the job artifacts in S3, the
 * job's security group, and the job role's statements (least privilege: its tables, its secret, its
 * prefixes, its connections).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  NOSQL_ARTIFACTS_PREFIX,
  NOSQL_METRIC_NAMESPACE,
  NOSQL_STATE_PREFIX,
  NOSQL_TEMP_PREFIX,
} from "../../../functions/nosql-extract/cloud-config";
import { classification } from "../../conventions";
import type { IngestionNetwork } from "../ingestion/network";
import {
  allow,
  glueCatalogArn,
  glueTables,
  lakeFormationDataAccess,
  listPrefixes,
  LOGS_WRITE,
  putMetricData,
  readObjects,
  readSecret,
  readWriteObjects,
  useKey,
  writeLogsUnder,
  type Statement,
} from "../iam/statements";
import type { AwsSourceContext } from "./context";

/** One job artifact under `_system/glue/nosql-extract/` of the warehouse bucket (lake key). */
export function artifact(
  name: string,
  ctx: AwsSourceContext,
  key: string,
  body: pulumi.asset.FileAsset | pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): aws.s3.BucketObjectv2 {
  const isAsset = body instanceof pulumi.asset.FileAsset;
  return new aws.s3.BucketObjectv2(
    name,
    {
      bucket: pulumi.all([ctx.warehouse.name, ctx.warehouse.ready]).apply(([b]) => b),
      key: `${NOSQL_ARTIFACTS_PREFIX}${key}`,
      ...(isAsset ? { source: body } : { content: body }),
      contentType: key.endsWith(".py")
        ? "text/x-python"
        : key.endsWith(".json")
          ? "application/json"
          : "application/java-archive",
      serverSideEncryption: "aws:kms",
      kmsKeyId: ctx.lakeKeyArn,
      tags: classification("none"),
    },
    opts,
  );
}

/**
 * The job's security group. Glue requires a group whose members accept all TCP from each other (driver
 * and executors; Glue developer guide, "Setting up networking for development for AWS Glue": a
 * self-referencing inbound rule for all TCP ports); nothing else comes in. Out: the source's ports to the
 * sources' networks, HTTPS to the VPC's interface endpoints and to S3 through the gateway endpoint, and
 * all TCP to the group itself.
 */
export function jobSecurityGroup(
  name: string,
  id: string,
  network: IngestionNetwork,
  ports: readonly number[],
  opts: pulumi.CustomResourceOptions,
): aws.ec2.SecurityGroup {
  const all = { protocol: "tcp", fromPort: 0, toPort: 65535, self: true };
  return new aws.ec2.SecurityGroup(
    name,
    {
      vpcId: network.vpcId,
      description: `Glue job ${id}: its own workers, the source, the AWS endpoints; nothing else`,
      ingress: [{ description: "Glue workers of this job (self-referencing, required by Glue)", ...all }],
      egress: [
        { description: "Glue workers of this job", ...all },
        ...[...new Set(ports)]
          .sort((a, b) => a - b)
          .map((port) => ({
            description: `source on ${port}`,
            protocol: "tcp",
            fromPort: port,
            toPort: port,
            cidrBlocks: [...network.sourceCidrs],
          })),
        {
          description: "interface endpoints",
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          securityGroups: [network.endpointSecurityGroup.id],
        },
        {
          description: "S3 gateway endpoint",
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          prefixListIds: [network.s3PrefixListId],
        },
      ],
      tags: { Name: id },
    },
    opts,
  );
}

/**
 * Where the job's connection places it: the first private subnet of the ingestion VPC (a Glue connection
 * names one subnet and its availability zone). A VPC this program did not create does not tell its
 * subnets' zones offline, so it is refused here until the cell config says them.
 */
export function placement(
  network: IngestionNetwork,
  id: string,
): { readonly subnetId: pulumi.Input<string>; readonly availabilityZone: pulumi.Input<string> } {
  const subnet = network.subnets[0];
  if (subnet === undefined)
    throw new Error(
      `${id}: NoSQL extraction jobs need the ingestion VPC created by this program (cells[].network without ` +
        `vpcId): the availability zone of an existing subnet is not known to the plan.`,
    );
  return { subnetId: subnet.id, availabilityZone: subnet.availabilityZone };
}

export interface ExtractRoleArgs {
  readonly context: AwsSourceContext;
  /** The source's name: its prefixes. */
  readonly source: string;
  /** The job's log-group prefix. */
  readonly logPrefix: string;
  /** Its curated Glue tables. */
  readonly tables: readonly string[];
  /** Its credentials secret. */
  readonly secretArn: pulumi.Input<string>;
  /** Its Glue connections. */
  readonly connectionNames: readonly pulumi.Input<string>[];
  /** Subnets and security group Glue places the job's network interfaces in. */
  readonly subnetIds: readonly pulumi.Input<string>[];
  readonly securityGroupId: pulumi.Input<string>;
}

/** The extraction role's policy. */
export function extractRoleStatements(a: ExtractRoleArgs): Statement[] {
  const ctx = a.context;
  const scope = { region: ctx.region, accountId: ctx.accountId };
  const curated = `curated/${a.source}/`;
  const state = `${NOSQL_STATE_PREFIX}${a.source}/`;
  const temp = `${NOSQL_TEMP_PREFIX}${a.source}/`;
  const ec2 = (type: string) => `arn:aws:ec2:${ctx.region}:${ctx.accountId}:${type}/*`;
  return [
    readObjects("ReadJobArtifacts", ctx.warehouse.arn, NOSQL_ARTIFACTS_PREFIX),
    readWriteObjects("WriteCuratedIceberg", ctx.warehouse.arn, curated),
    readWriteObjects("ExtractionState", ctx.warehouse.arn, state),
    listPrefixes("ListWarehouse", ctx.warehouse.arn, [curated, state, NOSQL_ARTIFACTS_PREFIX]),
    readWriteObjects("SparkTemp", ctx.raw.arn, temp),
    listPrefixes("ListTemp", ctx.raw.arn, [temp]),
    useKey("LakeKey", ctx.lakeKeyArn),
    readSecret("SourceCredentials", a.secretArn),
    glueTables(
      "CuratedCatalog",
      ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"],
      scope,
      ctx.curatedDatabaseName,
      a.tables,
    ),
    allow(
      "GlueConnections",
      ["glue:GetConnection"],
      [
        glueCatalogArn(scope),
        ...a.connectionNames.map(
          (n) => pulumi.interpolate`arn:aws:glue:${ctx.region}:${ctx.accountId}:connection/${n}`,
        ),
      ],
    ),
    lakeFormationDataAccess(),
    // Glue creates the job's network interfaces in the connection's subnet as this role (the EC2 actions of
    // the AWSGlueServiceRole managed policy); the Describe calls have no resource-level scoping.
    allow(
      "VpcDescribe",
      [
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeRouteTables",
        "ec2:DescribeVpcAttribute",
      ],
      "*",
    ),
    allow(
      "VpcInterfaces",
      ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:CreateTags", "ec2:DeleteTags"],
      [
        ec2("network-interface"),
        ...a.subnetIds.map((id) => pulumi.interpolate`arn:aws:ec2:${ctx.region}:${ctx.accountId}:subnet/${id}`),
        pulumi.interpolate`arn:aws:ec2:${ctx.region}:${ctx.accountId}:security-group/${a.securityGroupId}`,
      ],
    ),
    writeLogsUnder("JobLogs", scope, ["/aws-glue/"], [...LOGS_WRITE, "logs:AssociateKmsKey"]),
    useKey("EncryptedLogs", ctx.logsKeyArn, ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"]),
    putMetricData("JobMetrics", "Glue"),
    putMetricData("ExtractionMetrics", NOSQL_METRIC_NAMESPACE),
  ];
}
