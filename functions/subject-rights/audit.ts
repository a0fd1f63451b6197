/**
 * The audit store of data-subject requests: JSON records in the cell's audit bucket (S3 Object Lock,
 * COMPLIANCE mode, lake key), one object per event at `requests/<requestId>/<name>`.
 *
 * Append-only twice over: Object Lock keeps every version for the retention period, and each PutObject
 * carries `If-None-Match: *`, so S3 refuses (412 Precondition Failed) to write a key that already exists
 * instead of stacking a new version on it (S3 user guide, "Add preconditions to S3 operations with
 * conditional requests": conditional writes). A record is therefore written once and never replaced.
 *
 * Records hold who asked, what was found where, how many rows, and when: never a raw identifier, and not
 * the pseudonyms either (their count only), so the audit trail cannot be used to find the person.
 */
import { PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";

/** The prefix of every request's objects in the audit and exports buckets. */
export const REQUESTS_PREFIX = "requests/";

/** Raised when the record's key already exists: the audit store never overwrites. */
export class AuditRecordExists extends Error {}

export interface AuditLog {
  /** Appends `requests/<requestId>/<name>`; AuditRecordExists when that key is already written. */
  append(requestId: string, name: string, record: unknown): Promise<void>;
}

/** The audit key of one record. */
export const auditKey = (requestId: string, name: string): string => `${REQUESTS_PREFIX}${requestId}/${name}`;

/** A file-name-safe ISO timestamp (`2026-12-04T03-55-00.123Z`): colons are awkward in S3 console paths and shells. */
export const stamp = (at: string): string => at.replace(/:/g, "-");

export class S3AuditLog implements AuditLog {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async append(requestId: string, name: string, record: unknown): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: auditKey(requestId, name),
          Body: `${JSON.stringify(record, null, 2)}\n`,
          ContentType: "application/json",
          IfNoneMatch: "*",
          // A PUT to an Object Lock bucket must carry an integrity checksum (Content-MD5 or an
          // x-amz-checksum-*; S3 user guide, "Configuring S3 Object Lock"); SHA-256 is the SDK's own.
          ChecksumAlgorithm: "SHA256",
          // No encryption header: the bucket's default (SSE-KMS, lake key) applies. Naming `aws:kms`
          // without a key id would select the AWS-managed aws/s3 key instead.
        }),
      );
    } catch (e) {
      // 412 PreconditionFailed: the key exists. 409 ConditionalRequestConflict: a concurrent write to the
      // same key won; either way this record was already written once.
      const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
      if (status === 412 || status === 409)
        throw new AuditRecordExists(`audit record ${auditKey(requestId, name)} already exists`);
      throw e;
    }
  }
}
