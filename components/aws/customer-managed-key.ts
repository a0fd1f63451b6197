/**
 * A customer-managed KMS key with yearly automatic rotation and an explicit key policy: the account
 * delegates to IAM (named actions, no `kms:*`), and each AWS service that must use the key as itself
 * (CloudTrail, S3 server access logging, CloudWatch Logs...) gets its own statement scoped to this account.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { allowService, policyDocument, statement, type Condition } from "./iam/statements";

/** A service principal allowed to use the key directly, with the conditions that keep it to this account. */
export interface KeyServiceGrant {
  /** Statement id. */
  readonly sid: string;
  /** Service principal, e.g. `cloudtrail.amazonaws.com`. */
  readonly service: pulumi.Input<string>;
  /** KMS actions the service may call on the key (named, never `kms:*`). */
  readonly actions: readonly string[];
  /** IAM condition block that keeps the service to this account or resource. @default none */
  readonly condition?: pulumi.Input<Condition>;
}

export interface CustomerManagedKeyArgs {
  /** What the key protects (shown in the KMS console). */
  readonly description: string;
  /** Alias without the `alias/` prefix. */
  readonly alias: string;
  /** The account whose IAM policies the key policy delegates to. */
  readonly accountId: string;
  /** Services that use the key as themselves. @default [] */
  readonly serviceGrants?: readonly KeyServiceGrant[];
  /** Days a scheduled deletion waits (7-30). @default 30 */
  readonly deletionWindowInDays?: number;
}

/**
 * Key administration and use, delegated to IAM policies of the account. Named actions only: the policy
 * pack rejects wildcard actions everywhere, key policies included.
 */
export const KEY_ACCOUNT_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:CreateAlias",
  "kms:CreateGrant",
  "kms:Decrypt",
  "kms:DeleteAlias",
  "kms:DescribeKey",
  "kms:DisableKey",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
  "kms:RetireGrant",
  "kms:RevokeGrant",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
] as const;

export class CustomerManagedKey extends pulumi.ComponentResource {
  public readonly key: aws.kms.Key;
  public readonly arn: pulumi.Output<string>;
  public readonly alias: aws.kms.Alias;

  constructor(name: string, args: CustomerManagedKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:aws:CustomerManagedKey", name, args, opts);
    const statements = [
      statement({
        sid: "AccountDelegatesToIam",
        effect: "Allow",
        principal: { AWS: `arn:aws:iam::${args.accountId}:root` },
        actions: KEY_ACCOUNT_ACTIONS,
        resources: "*",
      }),
      ...(args.serviceGrants ?? []).map((g) => allowService(g.sid, g.service, g.actions, "*", g.condition)),
    ];
    this.key = new aws.kms.Key(
      `${name}`,
      {
        description: args.description,
        keyUsage: "ENCRYPT_DECRYPT",
        customerMasterKeySpec: "SYMMETRIC_DEFAULT",
        enableKeyRotation: true,
        // 365 days is the KMS default and minimum-audit-friendly period (KMS allows 90-2560).
        rotationPeriodInDays: 365,
        deletionWindowInDays: args.deletionWindowInDays ?? 30,
        policy: policyDocument(statements),
      },
      { parent: this },
    );
    this.alias = new aws.kms.Alias(
      `${name}-alias`,
      { name: `alias/${args.alias}`, targetKeyId: this.key.keyId },
      { parent: this },
    );
    this.arn = this.key.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
