/**
 * The suppression object read with the official `@google-cloud/storage` client (suppression.ts explains
 * the list). One metadata GET per refresh; the object itself is downloaded only when its generation
 * changed, and then that exact generation (a concurrent rewrite cannot mix two versions).
 */
import { Storage, type StorageOptions } from "@google-cloud/storage";
import type { SuppressionFetch, SuppressionSource } from "./suppression";

/** GCS answers 404 for an object that does not exist (yet: no erasure was ever run in the cell). */
function notFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === 404;
}

/**
 * A SuppressionSource for `gs://bucket/object`. `options` are the client's (tests point `apiEndpoint`
 * at a loopback fake). @default the client's defaults: Application Default Credentials, storage.googleapis.com
 */
export function gcsSuppressionSource(bucket: string, object: string, options: StorageOptions = {}): SuppressionSource {
  const storage = new Storage(options);
  return async (known): Promise<SuppressionFetch> => {
    let generation: string;
    try {
      const [metadata] = await storage.bucket(bucket).file(object).getMetadata();
      generation = String(metadata.generation);
    } catch (err) {
      if (notFound(err)) return { kind: "missing" };
      throw err;
    }
    if (generation === known) return { kind: "unchanged" };
    try {
      const [data] = await storage.bucket(bucket).file(object, { generation }).download();
      return { kind: "found", generation, text: data.toString("utf8") };
    } catch (err) {
      // Replaced between the two calls, and that generation deleted: the next refresh reads the new one.
      if (notFound(err)) return { kind: "unchanged" };
      throw err;
    }
  };
}
