/**
 * How every Cloud KMS key of a cell is made and granted: the one definition behind the cell key ring's
 * per-service keys (cell-key-ring.ts) and the keys of services the storage core has no key for
 * (clickstream/service-key.ts). Pure functions, not a component, so the keys keep their URNs.
 */
import type * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { daysToDuration } from "../conventions";

/**
 * Rotation period of every key: CIS Google Cloud Foundations Benchmark 1.10, "Ensure KMS encryption keys
 * are rotated within a period of 90 days". Rotation adds a primary version and keeps the old ones for
 * decryption (cloud.google.com/kms/docs/key-rotation), so nothing is re-encrypted.
 */
export const KEY_ROTATION_DAYS = 90;

/**
 * Days a version scheduled for destruction stays restorable: Cloud KMS's default of 30 days
 * (cloud.google.com/kms/docs/destroy-restore; the maximum is 120). Set explicitly so an org policy's
 * "minimum destroy scheduled duration" constraint is met by a visible value, not a default.
 */
export const KEY_DESTROY_SCHEDULED_DAYS = 30;

/**
 * The role a Google service agent needs to use a key for CMEK: the agent, not the caller, encrypts
 * (cloud.google.com/kms/docs/cmek, "service agent").
 */
export const KEY_USER_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

export interface CmekKeyInputs {
  /** Key name inside the ring. */
  readonly name: string;
  /** The key ring's id. */
  readonly keyRing: pulumi.Input<string>;
  /** Rotation period in days. @default KEY_ROTATION_DAYS (90) */
  readonly rotationDays?: number;
  /** Whether Pulumi may destroy the key (production: never). */
  readonly protect: boolean;
}

/**
 * A symmetric encryption key (CMEK integrations take `ENCRYPT_DECRYPT` keys, the only purpose Cloud KMS
 * rotates automatically), protected in software (Cloud KMS's default protection level; HSM or EXTERNAL
 * would be a deliberate per-key choice), rotating and recoverable as above.
 */
export function cmekKeyArgs(inputs: CmekKeyInputs): gcp.kms.CryptoKeyArgs {
  return {
    name: inputs.name,
    keyRing: inputs.keyRing,
    purpose: "ENCRYPT_DECRYPT",
    rotationPeriod: daysToDuration(inputs.rotationDays ?? KEY_ROTATION_DAYS),
    destroyScheduledDuration: daysToDuration(KEY_DESTROY_SCHEDULED_DAYS),
    versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "SOFTWARE" },
    deletionPolicy: inputs.protect ? "PREVENT" : "DELETE",
  };
}

/**
 * The key's id, resolving only after every grant to its agents exists: a CMEK resource created before
 * its agent may use the key fails, so consumers take this id rather than `key.id`.
 */
export function idOnceGranted(
  key: gcp.kms.CryptoKey,
  grants: readonly gcp.kms.CryptoKeyIAMMember[],
): pulumi.Output<string> {
  return pulumi.all([key.id, ...grants.map((g) => g.etag)]).apply(([id]) => id);
}
