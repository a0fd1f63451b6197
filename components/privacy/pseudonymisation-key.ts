/**
 * The cell's pseudonymisation key: 256 random bits, stored in GCP Secret Manager (replicated only in the
 * cell region, CMEK) and AWS Secrets Manager (the cell's KMS key) with the same value, so that the keyed
 * HMAC of an identifier is the same join key on both clouds (GDPR Art. 4(5), 25, 32; LGPD Art. 12-13).
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { classification } from "../conventions";

export interface PseudonymisationKeyArgs {
  /** `lakehouse-<environment>-<cell>`: both secrets are named `<resourcePrefix>-pseudonymisation-key`. */
  readonly resourcePrefix: string;
  /** The cell's name (`br`, `eu`). */
  readonly cell: string;
  /** The cell's GCP project. */
  readonly gcpProject: string;
  /** The cell's GCP region: the secret's only replica. */
  readonly gcpRegion: string;
  /** Cloud KMS key for Secret Manager (waits on the agent's grant). */
  readonly gcpKmsKeyName: pulumi.Input<string>;
  /** The cell's AWS KMS key (the lake key) encrypting the Secrets Manager copy. */
  readonly awsKmsKeyArn: pulumi.Input<string>;
  /** Production: GCP deletion protection, and a 30-day (not 7-day) AWS recovery window. */
  readonly protect: boolean;
}

export class PseudonymisationKey extends pulumi.ComponentResource {
  public readonly gcpSecret: gcp.secretmanager.Secret;
  public readonly awsSecret: aws.secretsmanager.Secret;
  /** `projects/<p>/secrets/<id>`, for Cloud Functions secret env vars. */
  public readonly gcpSecretId: pulumi.Output<string>;
  public readonly awsSecretArn: pulumi.Output<string>;

  constructor(
    name: string,
    args: PseudonymisationKeyArgs,
    /** Spans both clouds: pass the cell's aws, gcp and random providers in `providers`. */
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("lakehouse:privacy:PseudonymisationKey", name, args, opts);
    const secretName = `${args.resourcePrefix}-pseudonymisation-key`;
    const bytes = new random.RandomBytes(`${name}-bytes`, { length: 32 }, { parent: this });

    this.gcpSecret = new gcp.secretmanager.Secret(
      `${name}-gcp`,
      {
        project: args.gcpProject,
        secretId: secretName,
        replication: {
          userManaged: {
            replicas: [{ location: args.gcpRegion, customerManagedEncryption: { kmsKeyName: args.gcpKmsKeyName } }],
          },
        },
        deletionProtection: args.protect,
        labels: classification("none"),
      },
      { parent: this },
    );
    new gcp.secretmanager.SecretVersion(
      `${name}-gcp-version`,
      { secret: this.gcpSecret.id, secretData: bytes.hex },
      { parent: this },
    );

    this.awsSecret = new aws.secretsmanager.Secret(
      `${name}-aws`,
      {
        name: secretName,
        description: `HMAC key pseudonymising identifiers in cell ${args.cell}`,
        kmsKeyId: args.awsKmsKeyArn,
        recoveryWindowInDays: args.protect ? 30 : 7,
        tags: classification("none"),
      },
      { parent: this },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-aws-version`,
      { secretId: this.awsSecret.id, secretString: bytes.hex },
      { parent: this },
    );
    this.gcpSecretId = this.gcpSecret.id;
    this.awsSecretArn = this.awsSecret.arn;
    this.registerOutputs({ gcpSecretId: this.gcpSecretId, awsSecretArn: this.awsSecretArn });
  }
}
