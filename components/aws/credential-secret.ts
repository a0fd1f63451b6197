/**
 * A source's credentials (`lakehouse:sourceCredentials.<name>`) as a Secrets Manager secret under the cell's
 * lake key, in the JSON shape its reader expects (DMS, Glue connections, MSK Connect, a Lambda). The password
 * stays a secret Output from config to the secret version; no resource but the version sees it, and readers
 * reference the secret.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { classification } from "../conventions";

export interface CredentialSecretArgs {
  /** The secret's name, e.g. `<prefix>/dms/<source>`. */
  readonly secretName: string;
  /** What the secret is for (shown in the console). */
  readonly description: string;
  /** The cell's lake key. */
  readonly kmsKeyId: pulumi.Input<string>;
  /** The credential (`SourceCredential`: its password a secret Output). */
  readonly credential: pulumi.Input<{
    readonly username: pulumi.Input<string>;
    readonly password: pulumi.Input<string>;
  }>;
  /** The JSON the reader expects. @default `{ username, password }` */
  readonly shape?: (username: string, password: string) => Record<string, string | number>;
}

/** Makes `<name>-credentials` (the secret and its version) under `parent`; returns the secret. */
export function credentialSecret(
  name: string,
  args: CredentialSecretArgs,
  parent: pulumi.Resource,
): aws.secretsmanager.Secret {
  const shape = args.shape ?? ((username: string, password: string) => ({ username, password }));
  const secret = new aws.secretsmanager.Secret(
    `${name}-credentials`,
    {
      name: args.secretName,
      description: args.description,
      kmsKeyId: args.kmsKeyId,
      recoveryWindowInDays: 7,
      tags: classification("none"),
    },
    { parent },
  );
  new aws.secretsmanager.SecretVersion(
    `${name}-credentials`,
    {
      secretId: secret.id,
      secretString: pulumi.secret(
        pulumi.output(args.credential).apply((c) => JSON.stringify(shape(c.username, c.password))),
      ),
    },
    { parent },
  );
  return secret;
}
