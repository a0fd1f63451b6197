/**
 * Unpacks a source archive's entries (components/gcp/source-archive.ts) into an empty folder, as the cloud
 * unpacks it: generated files written, installed packages' files in place. The package files are hard
 * links, not copies: a service's dependency closure is thousands of files, and copying them cost the
 * suites that start an unpacked service most of their CPU time. A link is the same file under the
 * folder's own path, so module resolution sees only the folder (no symbolic link leads back into the
 * repository). Where linking is refused (another file system), the file is copied. The unpacked service
 * only reads its files; a test that wrote to one would write to the repository's copy.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ArchiveEntry } from "../../components/gcp/source-archive";

/** `src`'s tree at `dst`: folders made, files linked (or copied), symbolic links kept as they are. */
function linkTree(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, e.name);
    const to = path.join(dst, e.name);
    if (e.isDirectory()) linkTree(from, to);
    else if (e.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else linkFile(from, to);
  }
}

function linkFile(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw e;
    fs.copyFileSync(from, to);
  }
}

export function unpackArchive(entries: readonly ArchiveEntry[], dir: string): void {
  for (const e of entries) {
    const target = path.join(dir, e.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (e.kind === "text") fs.writeFileSync(target, e.text);
    else if (e.kind === "file") linkFile(e.source, target);
    else linkTree(e.source, target);
  }
}
