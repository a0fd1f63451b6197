/**
 * A customer-managed KMS key with yearly automatic rotation and an explicit key policy: the account
 * delegates to IAM (named actions, no `kms:*`), and each AWS service that must use the key as itself
 * (CloudTrail, S3 server access logging, CloudWatch Logs...) gets its own statement scoped to this account.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** A service principal allowed to use the key directly, with the conditions that keep it to this account. */
export interface KeyServiceGrant {
  /** Statement id. */
  readonly sid: string;
  /** Service principal, e.g. `cloudtrail.amazonaws.com`. */
  readonly service: pulumi.Input<string>;
  readonly actions: readonly string[];
  /** IAM condition block. */
  readonly condition?: pulumi.Input<Record<string, Record<string, pulumi.Input<string | string[]>>>>;
}

export interface CustomerManagedKeyArgs {
  readonly description: string;
  /** Alias without the `alias/` prefix. */
  readonly alias: string;
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
    const statements: pulumi.Input<unknown>[] = [
      {
        Sid: "AccountDelegatesToIam",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${args.accountId}:root` },
        Action: [...KEY_ACCOUNT_ACTIONS],
        Resource: "*",
      },
      ...(args.serviceGrants ?? []).map((g) => ({
        Sid: g.sid,
        Effect: "Allow",
        Principal: { Service: g.service },
        Action: [...g.actions],
        Resource: "*",
        ...(g.condition ? { Condition: g.condition } : {}),
      })),
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
        policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
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
