/**
 * The trust policy of an AWS role a Google identity assumes by web-identity federation (BigQuery Omni's
 * connection, Storage Transfer Service's agent): no AWS access key exists, and the role admits only the
 * named Google subjects (`accounts.google.com:sub`), never any Google principal (BigQuery docs, "Connect
 * to Amazon S3"; Storage Transfer docs, "Configure access to a source: Amazon S3", federated identity).
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * `subjects` are the Google identities' unique ids (one, or several as a list). `sid` names the statement
 * @default none (the statement has no Sid)
 */
export function googleIdentityTrust(
  subjects: pulumi.Input<string> | readonly pulumi.Input<string>[],
  sid?: string,
): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        ...(sid !== undefined ? { Sid: sid } : {}),
        Effect: "Allow",
        Principal: { Federated: "accounts.google.com" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { "accounts.google.com:sub": subjects } },
      },
    ],
  });
}
