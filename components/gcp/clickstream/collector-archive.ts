/**
 * The collector's runnable source archive, made by the program itself at `pulumi up` (ADR 0009): Cloud
 * Run runs it on Google's Node.js base image without a build ("source deploy without build"), so no
 * Docker, Cloud Build or image registry is involved and the service depends only on the uploaded object.
 *
 * What the archive holds, and nothing else:
 * - `dist/*.js`: the collector's runtime modules (the entries in functions/collector/tsconfig.build.json
 *   and the relative imports they reach), transpiled here with the repository's TypeScript and the same
 *   compiler options; tests, `local.ts` (the loopback entry) and `README.md` stay out;
 * - `package.json` of functions/collector (its `start` script is the service's command);
 * - `node_modules/...`: the production dependency closure of that package.json (`dependencies` and
 *   `optionalDependencies`, transitively), as installed by `npm ci` from the repository's lock file,
 *   in the same on-disk layout so that Node resolves exactly the versions the tests ran against.
 *   There is no `npm install` in the cloud: whatever is not in the archive does not exist at run time.
 *
 * Everything here is a pure function of the files on disk, so tests can list the archive without mocks.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

/** The folder the collector's sources and package.json live in. */
export const COLLECTOR_SOURCE_DIR = path.join(__dirname, "..", "..", "..", "functions", "collector");

/**
 * The Node.js runtime the collector runs on in the cloud. Node.js 24 "Krypton": Active LTS from
 * 2025-10-28, Maintenance LTS from 2026-10-20, end of life 2028-04-30 (github.com/nodejs/Release,
 * "Release schedule"); Node.js 20 reached end of life on 2026-04-30 and 22 ends on 2027-04-30.
 * Cloud Run's Node.js 24 runtime is `nodejs24` on the Ubuntu 24.04 stack `google-24`
 * (cloud.google.com/docs/buildpacks/base-images, "Node.js"; run/docs/configuring/services/runtime-base-images).
 */
export const COLLECTOR_RUNTIME = { nodeMajor: 24, runtimeId: "nodejs24", stack: "google-24" } as const;

/**
 * Google's base image for the runtime, served from the cell's own region: base images "are hosted in
 * every region where Artifact Registry is available" at
 * `REGION-docker.pkg.dev/serverless-runtimes/STACK/runtimes/RUNTIME_ID`
 * (cloud.google.com/docs/buildpacks/base-images). With a base image set, Cloud Run applies the runtime's
 * security updates without a redeploy (run/docs/configuring/services/automatic-base-image-updates).
 */
export function collectorBaseImage(region: string): string {
  return `${region}-docker.pkg.dev/serverless-runtimes/${COLLECTOR_RUNTIME.stack}/runtimes/${COLLECTOR_RUNTIME.runtimeId}`;
}

/** The compiled entry point: `server.ts` `main()` (functions/collector/README.md, "Deployment contract"). */
export const COLLECTOR_ENTRY = "dist/server.js";
/** The container command: the same as the package's `start` script, without npm in between (signals reach node). */
export const COLLECTOR_COMMAND = ["node", COLLECTOR_ENTRY] as const;

/** One archive entry: a generated text file, a file copied as is, or a whole installed package folder. */
export type ArchiveEntry =
  | { readonly kind: "text"; readonly path: string; readonly text: string }
  | { readonly kind: "file"; readonly path: string; readonly source: string }
  | { readonly kind: "dir"; readonly path: string; readonly source: string };

export interface CollectorArchive {
  /** Sorted by path. */
  readonly entries: readonly ArchiveEntry[];
  /** Content hash (sources, compiled output, package.json, every dependency's name@version and place). */
  readonly hash: string;
}

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** The runtime modules: the build entries and every relative module they import, transitively (sorted). */
export function collectorRuntimeModules(dir: string = COLLECTOR_SOURCE_DIR): string[] {
  const build = readJson<{ files: string[] }>(path.join(dir, "tsconfig.build.json"));
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(path.join(dir, file), "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s+|\brequire\()["'](\.\/[^"']+)["']/g)) {
      visit(`${path.posix.normalize(m[1])}.ts`);
    }
  };
  for (const entry of build.files) visit(entry);
  return [...seen].sort();
}

/** Transpiles one module with the compiler options of tsconfig.build.json (CommonJS, ES2022). */
function transpile(dir: string, file: string): string {
  const build = readJson<{ compilerOptions: Record<string, unknown> }>(path.join(dir, "tsconfig.build.json"));
  const { options, errors } = ts.convertCompilerOptionsFromJson(build.compilerOptions, dir);
  if (errors.length > 0) {
    throw new Error(
      `functions/collector/tsconfig.build.json: ${ts.flattenDiagnosticMessageText(errors[0].messageText, "\n")}`,
    );
  }
  const out = ts.transpileModule(readFileSync(path.join(dir, file), "utf8"), {
    fileName: path.join(dir, file),
    reportDiagnostics: true,
    compilerOptions: { ...options, sourceMap: false, inlineSourceMap: false, declaration: false },
  });
  const problems = out.diagnostics ?? [];
  if (problems.length > 0) {
    throw new Error(`functions/collector/${file}: ${ts.flattenDiagnosticMessageText(problems[0].messageText, "\n")}`);
  }
  return out.outputText;
}

/** Where `name` resolves from `fromDir`, the way Node looks up `node_modules` folders. */
function resolvePackage(name: string, fromDir: string): string | undefined {
  for (let d = fromDir; ; d = path.dirname(d)) {
    const candidate = path.join(d, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * The installed folders of the production dependency closure of `dir`'s package.json (absolute paths,
 * sorted). A declared dependency that is not installed is an error: the archive would not run.
 */
export function collectorDependencyDirs(dir: string = COLLECTOR_SOURCE_DIR): string[] {
  const seen = new Set<string>();
  const visit = (pkgDir: string, required: boolean, dependant: string) => {
    const pkg = readJson<PackageJson>(path.join(pkgDir, "package.json"));
    const deps: [string, boolean][] = [
      ...Object.keys(pkg.dependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((n): [string, boolean] => [n, false]),
    ];
    for (const [name, isRequired] of deps) {
      const found = resolvePackage(name, pkgDir);
      if (found === undefined) {
        if (isRequired && required)
          throw new Error(`${name}, a dependency of ${dependant}, is not installed (run npm ci)`);
        continue;
      }
      if (seen.has(found)) continue;
      seen.add(found);
      visit(found, isRequired && required, name);
    }
  };
  visit(dir, true, "functions/collector");
  return [...seen].sort();
}

/**
 * The archive path of an installed package: its path below the nearest folder, from `dir` up, whose
 * `node_modules` holds it (`<repo>/node_modules/google-gax/node_modules/x` -> `node_modules/google-gax/node_modules/x`).
 */
function archivePathOf(dir: string, pkgDir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    const modules = path.join(d, "node_modules") + path.sep;
    if (pkgDir.startsWith(modules)) return path.relative(d, pkgDir).split(path.sep).join("/");
    if (path.dirname(d) === d) throw new Error(`${pkgDir} is not below a node_modules folder of ${dir}`);
  }
}

const built = new Map<string, CollectorArchive>();

/** Builds the archive's entry list and hash from the files on disk (once per folder and process). */
export function collectorArchive(dir: string = COLLECTOR_SOURCE_DIR): CollectorArchive {
  const cached = built.get(dir);
  if (cached !== undefined) return cached;
  const entries: ArchiveEntry[] = [];
  for (const mod of collectorRuntimeModules(dir)) {
    entries.push({ kind: "text", path: `dist/${mod.replace(/\.ts$/, ".js")}`, text: transpile(dir, mod) });
  }
  entries.push({ kind: "file", path: "package.json", source: path.join(dir, "package.json") });

  const deps = collectorDependencyDirs(dir).map((abs) => ({ abs, rel: archivePathOf(dir, abs) }));
  // A package folder is copied whole, nested node_modules included; a package nested inside another
  // one of the closure is therefore already there.
  const roots = deps.filter((d) => !deps.some((o) => o !== d && d.rel.startsWith(`${o.rel}/`)));
  for (const d of roots) entries.push({ kind: "dir", path: d.rel, source: d.abs });
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const h = createHash("sha256");
  for (const e of entries) {
    h.update(e.path).update("\0");
    if (e.kind === "text") h.update(e.text);
    else if (e.kind === "file") h.update(readFileSync(e.source));
    h.update("\0");
  }
  // Installed packages are identified by name, version and place (npm ci installs the lock file's exact
  // tarballs): cheaper than hashing ~50 MB on every run, and any upgrade changes the hash.
  for (const d of deps) {
    const pkg = readJson<PackageJson>(path.join(d.abs, "package.json"));
    h.update(`${d.rel}=${pkg.name}@${pkg.version}\0`);
  }
  const archive = { entries, hash: h.digest("hex").slice(0, 16) };
  built.set(dir, archive);
  return archive;
}

/** Every file path the archive holds once unpacked (dir entries expanded), sorted: for tests and review. */
export function listArchiveFiles(archive: CollectorArchive): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs)) {
      const a = path.join(abs, name);
      const r = `${rel}/${name}`;
      if (statSync(a).isDirectory()) walk(a, r);
      else out.push(r);
    }
  };
  for (const e of archive.entries) {
    if (e.kind === "dir") walk(e.source, e.path);
    else out.push(e.path);
  }
  return out.sort();
}
