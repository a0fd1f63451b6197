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

/**
 * The trust policy of an account-wide role a service assumes without telling which resource or account
 * it acts for, so an `aws:SourceAccount` condition would never match and the service could not assume it.
 * Only for roles whose name the service fixes (one per account, shared by all its resources): today DMS's
 * `dms-vpc-role` (see transactional-ingestion.ts for the evidence). Everything else uses `serviceTrustPolicy`.
 */
export function serviceOnlyTrustPolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}
