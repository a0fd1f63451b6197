/**
 * A cell's data-subject request machinery on AWS (issue 14, ADR 0013): the IAM-protected intake (a Lambda
 * function URL with AWS_IAM auth, invocable only by the privacy officers' role), the requests table
 * (pseudonyms only), the AWS worker fed by the table's stream, the Object-Locked audit bucket, the
 * short-lived exports bucket, the suppression Iceberg table, and the role the GCP worker assumes by web
 * identity. The functions live in functions/subject-rights/; their environment variables are the names
 * fixed there.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { JurisdictionId } from "../../../policy/contract";
import { deflateRegistry, REGISTRY_DEFLATED_ENV, SUPPRESSION_TABLE } from "../../../functions/subject-rights/registry";
import { googleIdentityTrust } from "../../federation/google-trust";
import { personaTrustPolicy } from "../../federation/personas-aws";
import { ServiceRole } from "../iam/service-role";
import type { IcebergTable } from "../ingestion/iceberg-table";
import type { SecureBucket } from "../secure-bucket";
import type { AwsSourceContext } from "../sources/context";
import { SourceFunction } from "../sources/source-function";
import {
  gcpWorkerStatements,
  intakeStatements,
  officerStatements,
  workerStatements,
  type RegisteredAwsTable,
  type RightsAccessScope,
} from "./rights-access";
import { auditBucket, exportsBucket, requestsTable, suppressionTable } from "./rights-stores";
import { workerGrants, workerStreamMapping } from "./worker-wiring";

export interface AwsSubjectRightsArgs {
  /** The cell's shared AWS context (keys, buckets, curated database, workgroup, alerts, retention, protect). */
  readonly context: AwsSourceContext;
  /** The cell's jurisdiction (`eu`, `br`): a request for another is refused (422). */
  readonly jurisdiction: JurisdictionId;
  /** The cell's access-log bucket: the audit and exports buckets log their requests there. */
  readonly accessLogsBucketName: pulumi.Input<string>;
  /** The query-results bucket of the cell's workgroup (results under `athena/`). */
  readonly queryResultsBucketArn: pulumi.Input<string>;
  /** The personal-data registry as JSON (`PersonalDataCatalog.json()`): the worker's REGISTRY_DEFLATED, deflated. */
  readonly registryJson: pulumi.Input<string>;
  /** The registry's AWS tables: the worker gets Glue and Lake Formation rights on these only. @default [] */
  readonly registeredTables?: readonly RegisteredAwsTable[];
  /**
   * The privacy officers (`lakehouse:personas.privacyOfficers.awsPrincipals`) of the cell's account: they
   * assume the cell's privacy-officers role. @default [] (no role: nobody can call the intake)
   */
  readonly privacyOfficers?: readonly string[];
  /**
   * The GCP worker's service account unique id (`accounts.google.com:sub`): the only subject the GCP
   * worker's AWS role trusts. @default none (no role is created)
   */
  readonly gcpWorkerSubject?: pulumi.Input<string>;
}

/** `lakehouse-<env>-<cell>-privacy-officers`: the role the exports bucket lets read. */
export const privacyOfficersRoleName = (resourcePrefix: string): string => `${resourcePrefix}-privacy-officers`;

export class AwsSubjectRights extends pulumi.ComponentResource {
  public readonly requests: aws.dynamodb.Table;
  public readonly audit: SecureBucket;
  public readonly exports: SecureBucket;
  public readonly suppression: IcebergTable;
  public readonly intake: SourceFunction;
  public readonly intakeUrl: aws.lambda.FunctionUrl;
  public readonly worker: SourceFunction;
  public readonly streamMapping: aws.lambda.EventSourceMapping;
  /** The privacy officers' role, when the cell has privacy officers. */
  public readonly officersRole: ServiceRole | undefined;
  /** The ARN of the role the GCP worker assumes by web identity (resolved once its policy exists), when its subject is known. */
  public readonly gcpWorkerRoleArn: pulumi.Output<string> | undefined;

  constructor(name: string, args: AwsSubjectRightsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:SubjectRights", name, {}, opts);
    const { context } = args;
    const child = { parent: this };
    const officersRoleArn = `arn:aws:iam::${context.accountId}:role/${privacyOfficersRoleName(context.resourcePrefix)}`;

    this.requests = requestsTable(`${name}-requests`, context, this);
    this.audit = auditBucket(`${name}-audit`, context, args.accessLogsBucketName, this);
    this.exports = exportsBucket(`${name}-exports`, context, args.accessLogsBucketName, officersRoleArn, this);
    this.suppression = suppressionTable(`${name}-suppression`, context, this);
    const scope: RightsAccessScope = {
      region: context.region,
      accountId: context.accountId,
      requestsTableArn: this.requests.arn,
      auditBucketArn: this.audit.arn,
      exportsBucketArn: this.exports.arn,
      lakeKeyArn: context.lakeKeyArn,
      logsKeyArn: context.logsKeyArn,
    };
    const tables: RegisteredAwsTable[] = [
      ...(args.registeredTables ?? []),
      { key: "suppression", database: context.curatedDatabaseName, table: this.suppression.name },
    ];
    const common = {
      REQUESTS_TABLE: this.requests.name,
      AUDIT_BUCKET: this.audit.ready,
      CELL: context.cell,
    };

    this.intake = new SourceFunction(
      `${name}-intake`,
      {
        context,
        functionName: "subject-rights-intake",
        description: "Data-subject request intake: pseudonymises, records and audits access and erasure requests",
        entry: "functions/subject-rights/aws-intake.ts",
        statements: intakeStatements(scope, context.pseudonymisationSecretArn),
        environment: {
          ...common,
          PSEUDONYMISATION_SECRET_ARN: context.pseudonymisationSecretArn,
          JURISDICTION: args.jurisdiction,
        },
        timeoutSeconds: 30,
        memoryMb: 512,
      },
      child,
    );
    this.intakeUrl = new aws.lambda.FunctionUrl(
      `${name}-intake-url`,
      // Only SigV4-signed calls of principals the policies allow; never NONE (public).
      { functionName: this.intake.name, authorizationType: "AWS_IAM", invokeMode: "BUFFERED" },
      child,
    );

    this.worker = new SourceFunction(
      `${name}-worker`,
      {
        context,
        functionName: "subject-rights-worker",
        description: "Data-subject request worker: erases or exports a subject's rows in the registered Iceberg tables",
        entry: "functions/subject-rights/aws-worker.ts",
        statements: workerStatements(scope, {
          // The pattern of the DynamoDB developer guide's example, from the table's ARN (known at plan time).
          streamArn: pulumi.interpolate`${this.requests.arn}/stream/*`,
          workgroupName: context.workgroupName,
          queryResultsBucketArn: args.queryResultsBucketArn,
          warehouseBucketArn: context.warehouse.arn,
          tables,
        }),
        environment: {
          ...common,
          EXPORTS_BUCKET: this.exports.ready,
          WORKGROUP: context.workgroupName,
          SUPPRESSION_DATABASE: context.curatedDatabaseName,
          // Deflated: Lambda allows 4 KB of environment in all, which the plain JSON outgrows (registry.ts).
          [REGISTRY_DEFLATED_ENV]: pulumi.output(args.registryJson).apply(deflateRegistry),
        },
        // Athena DELETEs on large tables take minutes; Lambda's ceiling is 15.
        timeoutSeconds: 900,
        memoryMb: 512,
      },
      child,
    );
    const grants = workerGrants(`${name}-worker`, context, this.worker.role.arn, tables, this);
    this.streamMapping = workerStreamMapping(`${name}-worker-stream`, this.requests, this.worker, grants, this);

    this.officersRole = this.officers(name, args, scope);
    this.gcpWorkerRoleArn =
      args.gcpWorkerSubject === undefined ? undefined : this.gcpWorker(name, args.gcpWorkerSubject, scope);
    this.registerOutputs({
      intakeUrl: this.intakeUrl.functionUrl,
      requestsTable: this.requests.name,
      auditBucket: this.audit.name,
      exportsBucket: this.exports.name,
      suppressionTable: SUPPRESSION_TABLE,
    });
  }

  /**
   * The privacy officers' role (a persona role like components/federation/personas-aws.ts: trusted by the
   * persona's principals of the cell's account, tagged `persona`), and the intake's resource policy naming it
   * for both actions a function URL call needs since October 2025 (`lambda:InvokeFunctionUrl` and
   * `lambda:InvokeFunction`; Lambda developer guide, "Control access to Lambda function URLs").
   */
  private officers(name: string, args: AwsSubjectRightsArgs, scope: RightsAccessScope): ServiceRole | undefined {
    const principals = args.privacyOfficers ?? [];
    if (principals.length === 0) return undefined;
    const { context } = args;
    const child = { parent: this };
    const role = new ServiceRole(
      `${name}-privacy-officers`,
      {
        service: "none",
        accountId: context.accountId,
        roleName: privacyOfficersRoleName(context.resourcePrefix),
        description: `privacyOfficers of cell ${context.cell}: data-subject request intake and exports (components/aws/rights)`,
        maxSessionDuration: 4 * 3600,
        trustPolicy: personaTrustPolicy(principals, false),
        tags: { persona: "privacy-officers", "break-glass": "false" },
        statements: officerStatements(scope, this.intake.arn),
      },
      child,
    );
    new aws.lambda.Permission(
      `${name}-intake-url-officers`,
      {
        action: "lambda:InvokeFunctionUrl",
        function: this.intake.name,
        principal: role.arn,
        functionUrlAuthType: "AWS_IAM",
      },
      child,
    );
    new aws.lambda.Permission(
      `${name}-intake-invoke-officers`,
      // Only through the URL: a direct Invoke could forge the caller recorded as "who asked".
      { action: "lambda:InvokeFunction", function: this.intake.name, principal: role.arn, invokedViaFunctionUrl: true },
      child,
    );
    return role;
  }

  /** The role the GCP worker assumes with its Google ID token (no AWS key on GCP). */
  private gcpWorker(name: string, subject: pulumi.Input<string>, scope: RightsAccessScope): pulumi.Output<string> {
    const child = { parent: this };
    const role = new ServiceRole(
      `${name}-gcp-worker`,
      {
        service: "none",
        accountId: scope.accountId,
        description: "The GCP data-subject request worker (Cloud Run, by web identity): reads and updates requests",
        trustPolicy: googleIdentityTrust(subject, "GcpSubjectRightsWorker"),
        statements: gcpWorkerStatements(scope),
      },
      child,
    );
    return role.arn;
  }
}
