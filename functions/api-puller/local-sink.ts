/**
 * Landed pages as files under a folder, with S3's semantics where they matter: a key names one object,
 * a second put replaces it whole (write to a temporary name, then rename: no half-written object is ever
 * visible), and `put` resolves only once the bytes are on disk.
 */
import { mkdir, open, rename } from "node:fs/promises";
import * as path from "node:path";
import type { ObjectSink } from "./puller";

export class LocalDirSink implements ObjectSink {
  /** Keys in the order they were put (a re-put appears twice). */
  readonly puts: string[] = [];

  constructor(readonly root: string) {}

  async put(key: string, body: Buffer): Promise<void> {
    const file = path.join(this.root, ...key.split("/"));
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    const handle = await open(tmp, "w");
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    this.puts.push(key);
  }
}
