/**
 * The GCS suppression object (`gs://<suppression bucket>/suppression/pseudonyms.txt`, registry.ts
 * SUPPRESSION_OBJECT): the pseudonyms of erased subjects, which the collector drops on arrival
 * (functions/collector/suppression.ts defines the format and reads it). Written with the official
 * `@google-cloud/storage` client as read-merge-write under a generation precondition, so two workers that
 * merge at the same time cannot lose each other's pseudonyms: the second write fails with 412 and is
 * merged again on top of the first.
 */
import { Storage, type StorageOptions } from "@google-cloud/storage";
import { formatSuppressionList, parseSuppressionList } from "../collector/suppression";
import { SUPPRESSION_OBJECT } from "./registry";

export { formatSuppressionList, parseSuppressionList };

/** The object as read: its pseudonyms and the generation a write must match (0: it does not exist). */
export interface SuppressionSnapshot {
  readonly pseudonyms: readonly string[];
  /**
   * `ifGenerationMatch: 0` makes a write succeed only if no live version exists
   * (cloud.google.com/storage/docs/request-preconditions, "If-Generation-Match").
   */
  readonly generation: string;
}

export interface SuppressionMerge {
  /** Pseudonyms that were not in the object before this call. */
  readonly added: number;
  /** Pseudonyms in the object after it. */
  readonly total: number;
  /** Writes refused with 412 (another writer got there first) and merged again. */
  readonly conflicts: number;
}

function code(err: unknown): unknown {
  return typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
}

export class SuppressionObject {
  private readonly storage: Storage;

  /**
   * @param bucket the cell's suppression bucket
   * @param options the Storage client's options (tests point `apiEndpoint` at a loopback fake).
   *   @default Application Default Credentials against storage.googleapis.com
   * @param maxAttempts writes tried before giving up when every one meets a concurrent writer. @default 8
   */
  constructor(
    readonly bucket: string,
    options: StorageOptions = {},
    private readonly maxAttempts = 8,
    readonly object: string = SUPPRESSION_OBJECT,
  ) {
    this.storage = new Storage(options);
  }

  async read(): Promise<SuppressionSnapshot> {
    const file = this.storage.bucket(this.bucket).file(this.object);
    let generation: string;
    try {
      const [metadata] = await file.getMetadata();
      generation = String(metadata.generation);
    } catch (err) {
      if (code(err) === 404) return { pseudonyms: [], generation: "0" };
      throw err;
    }
    // That generation exactly: the text and the precondition describe the same version.
    const [data] = await this.storage.bucket(this.bucket).file(this.object, { generation }).download();
    return { pseudonyms: parseSuppressionList(data.toString("utf8")), generation };
  }

  /**
   * Adds `pseudonyms` (idempotent: nothing new, nothing written, so a re-run leaves the object and its
   * generation as they were). A 412 (the object changed since it was read) is a concurrent writer: read,
   * merge and write again, after a short random pause so two writers do not collide in step.
   */
  async add(pseudonyms: readonly string[]): Promise<SuppressionMerge> {
    let conflicts = 0;
    for (let attempt = 1; ; attempt++) {
      const snapshot = await this.read();
      const present = new Set(snapshot.pseudonyms);
      const fresh = [...new Set(pseudonyms)].filter((p) => !present.has(p));
      if (fresh.length === 0) return { added: 0, total: present.size, conflicts };
      const text = formatSuppressionList([...present, ...fresh]);
      try {
        await this.storage
          .bucket(this.bucket)
          .file(this.object)
          .save(text, {
            // One request (multipart upload): the precondition then holds for the whole write.
            resumable: false,
            contentType: "text/plain; charset=utf-8",
            preconditionOpts: { ifGenerationMatch: Number(snapshot.generation) },
          });
        return { added: fresh.length, total: present.size + fresh.length, conflicts };
      } catch (err) {
        if (code(err) !== 412 || attempt >= this.maxAttempts) throw err;
        conflicts++;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.floor(Math.random() * 50)));
      }
    }
  }
}
