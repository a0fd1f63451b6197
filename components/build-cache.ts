/**
 * A content-addressed cache for what the program builds from the repository's files while it is
 * evaluated: the services' transpiled modules (gcp/source-archive.ts) and the Lambda bundles
 * (aws/sources/source-function.ts). Every `pulumi preview`/`up`, offline plan and test evaluation builds
 * the same outputs from the same files; loading TypeScript and running esbuild was a quarter of an
 * offline plan's time.
 *
 * An entry is found by a key that the caller derives from everything its output depends on (tool
 * version, options, source text), and is used only if every input file it recorded still has the
 * content it had (so a bundle notices a change in any module it pulled in). Entries live in
 * `node_modules/.cache/lakehouse/` (the npm ecosystem's cache folder; `npm ci` starts it empty), or in
 * `LAKEHOUSE_BUILD_CACHE`; `LAKEHOUSE_BUILD_CACHE=off` builds every time. A missing, unreadable or
 * stale entry is rebuilt; writes are atomic (temporary file, then rename), so parallel evaluations
 * never read half an entry.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./project-root";

interface Entry {
  /** Absolute path -> sha256 of the content the output was built from. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly output: string;
}

export interface Built {
  readonly output: string;
  /** The files the output was built from (absolute paths). */
  readonly inputs: readonly string[];
}

function cacheDir(): string | undefined {
  const v = process.env.LAKEHOUSE_BUILD_CACHE;
  if (v === "off") return undefined;
  return v && v.length > 0 ? v : path.join(PROJECT_ROOT, "node_modules", ".cache", "lakehouse");
}

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

function fileHash(file: string): string | undefined {
  try {
    return sha256(readFileSync(file));
  } catch {
    return undefined;
  }
}

/** The hash of a key made of parts (joined unambiguously). */
export function cacheKey(...parts: readonly string[]): string {
  return sha256(parts.map((p) => `${p.length}:${p}`).join(""));
}

/**
 * `build()`'s output for `key`: from the cache when an entry exists and its inputs are unchanged,
 * otherwise built and stored.
 */
export function cachedBuild(kind: string, key: string, build: () => Built): string {
  const dir = cacheDir();
  if (dir === undefined) return build().output;
  const file = path.join(dir, kind, `${key}.json`);
  try {
    const entry = JSON.parse(readFileSync(file, "utf8")) as Entry;
    if (Object.entries(entry.inputs).every(([f, h]) => fileHash(f) === h)) return entry.output;
  } catch {
    // Missing or unreadable: build it.
  }
  const built = build();
  const inputs: Record<string, string> = {};
  for (const f of built.inputs) {
    const h = fileHash(f);
    if (h === undefined) return built.output; // an input we cannot read again cannot be checked later
    inputs[f] = h;
  }
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ inputs, output: built.output } satisfies Entry));
    renameSync(tmp, file);
  } catch {
    // A read-only checkout still evaluates; it just builds every time.
  }
  return built.output;
}
