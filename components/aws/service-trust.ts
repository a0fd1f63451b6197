/**
 * The trust policy of a role an AWS service assumes on the account's behalf, limited to calls made
 * for this account (`aws:SourceAccount`), which closes the confused-deputy path (IAM user guide,
 * "The confused deputy problem").
 */
export function serviceTrustPolicy(service: string, accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  });
}
