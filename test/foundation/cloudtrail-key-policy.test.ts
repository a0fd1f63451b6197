/**
 * Issue 10, finding 7: the logs key lets CloudTrail do exactly what "Configure AWS KMS key policies for
 * CloudTrail" requires of a trail's key (docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html):
 * encrypt under the trail's encryption context, describe the key (no encryption context exists on that
 * call, so no context condition), and decrypt, which a bucket with an S3 Bucket Key needs to create the
 * trail. Each is limited to the cell's trail by aws:SourceArn. Read from the recorded prod plan.
 */
import { expect } from "chai";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { configOf, joinedTo, ofType, planOf } from "../helpers/plan";

type Statement = {
  Sid?: string;
  Effect: string;
  Principal?: { Service?: string; AWS?: string };
  Action: string | string[];
  Resource?: string;
  Condition?: Record<string, Record<string, unknown>>;
};
const json = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);

const config = configOf("prod");

describe("CloudTrail key policy (prod)", () => {
  let plan: Plan;
  before(async () => {
    plan = await planOf("prod");
  });

  for (const cell of config.cells) {
    describe(`cell ${cell.name}`, () => {
      const prefix = `lakehouse-${config.environment}-${cell.name}`;
      const { accountId, region } = cell.aws;
      const trailArn = `arn:aws:cloudtrail:${region}:${accountId}:trail/${prefix}-lake`;

      const trail = (): PlannedResource => {
        const trails = ofType(plan, "aws:cloudtrail/trail:Trail", cell.name);
        expect(trails).to.have.length(1);
        return trails[0];
      };
      /** The key the trail encrypts with, found through the trail's kmsKeyId (not by name). */
      const trailKey = (): PlannedResource => {
        const arn = trail().inputs.kmsKeyId;
        const keys = ofType(plan, "aws:kms/key:Key", cell.name).filter((k) => k.outputs.arn === arn);
        expect(keys, "the trail's key").to.have.length(1);
        return keys[0];
      };
      const cloudTrailStatements = (): Statement[] =>
        (json(trailKey().inputs.policy) as { Statement: Statement[] }).Statement.filter(
          (s) => s.Principal?.Service === "cloudtrail.amazonaws.com",
        );

      it("names the trail the statements are scoped to", () => {
        expect(trail().inputs.name).to.equal(`${prefix}-lake`);
      });

      it("grants CloudTrail exactly encrypt (context + SourceArn), describe (SourceArn only) and decrypt (SourceArn)", () => {
        const byAction = Object.fromEntries(
          cloudTrailStatements().map((s) => [([] as string[]).concat(s.Action).join(","), s]),
        );
        expect(Object.keys(byAction)).to.have.members(["kms:GenerateDataKey", "kms:DescribeKey", "kms:Decrypt"]);
        for (const s of Object.values(byAction)) {
          expect(s.Effect).to.equal("Allow");
          expect(s.Resource).to.equal("*");
        }
        expect(byAction["kms:GenerateDataKey"].Condition).to.deep.equal({
          StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": `arn:aws:cloudtrail:*:${accountId}:trail/*` },
          StringEquals: { "aws:SourceArn": trailArn },
        });
        // DescribeKey has no encryption context: any kms:EncryptionContext condition would never match.
        expect(byAction["kms:DescribeKey"].Condition).to.deep.equal({ StringEquals: { "aws:SourceArn": trailArn } });
        expect(byAction["kms:Decrypt"].Condition).to.deep.equal({ StringEquals: { "aws:SourceArn": trailArn } });
      });

      it("no CloudTrail statement puts DescribeKey or Decrypt under an encryption-context condition", () => {
        for (const s of cloudTrailStatements()) {
          const actions = ([] as string[]).concat(s.Action);
          const contextKeys = Object.values(s.Condition ?? {}).flatMap((c) =>
            Object.keys(c).filter((k) => k.startsWith("kms:EncryptionContext:")),
          );
          if (actions.includes("kms:DescribeKey") || actions.includes("kms:Decrypt")) {
            expect(contextKeys, `${s.Sid}`).to.deep.equal([]);
          }
        }
      });

      it("writes to a bucket with an S3 Bucket Key under the same key (why Decrypt is required)", () => {
        const bucket = trail().inputs.s3BucketName;
        const [sse] = joinedTo(
          plan,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          "bucket",
          bucket,
        );
        const [rule] = sse.inputs.rules as {
          bucketKeyEnabled: boolean;
          applyServerSideEncryptionByDefault: { kmsMasterKeyId: string };
        }[];
        expect(rule.bucketKeyEnabled).to.equal(true);
        expect(rule.applyServerSideEncryptionByDefault.kmsMasterKeyId).to.equal(trailKey().outputs.arn);
      });
    });
  }
});
