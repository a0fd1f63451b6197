/**
 * The runnable source archive of a Node.js service under functions/, made by the program itself at
 * `pulumi up` (ADR 0009): Cloud Run runs it on Google's Node.js base image without a build ("source deploy
 * without build"), so no Docker, Cloud Build or image registry is involved and the service depends only on
 * the uploaded object. The collector was the first such service (clickstream/collector-archive.ts); the
 * subject-rights worker (rights/) is the second, so the builder takes the service's folder.
 *
 * What an archive holds, and nothing else:
 * - `dist/**.js`: the service's runtime modules (the entries in its `tsconfig.build.json` and the relative
 *   imports they reach, also into sibling folders such as `../collector/suppression`), transpiled here with
 *   the repository's TypeScript and that file's compiler options; tests, local entries and READMEs stay out.
 *   When every module sits in the service's folder, `dist/` mirrors that folder (`dist/server.js`); when
 *   some come from sibling folders, `dist/` mirrors their common parent (`dist/subject-rights/gcp-server.js`,
 *   `dist/collector/suppression.js`), so relative imports resolve as they do in the repository;
 * - the folder's `package.json` (its `start` script is the service's command);
 * - `node_modules/...`: the production dependency closure of that package.json (`dependencies` and
 *   `optionalDependencies`, transitively), as installed by `npm ci` from the repository's lock file, in the
 *   same on-disk layout so that Node resolves exactly the versions the tests ran against. There is no
 *   `npm install` in the cloud: a package a module requires that the package.json does not declare is an
 *   error here, not a crash at run time.
 *
 * Everything here is a pure function of the files on disk, so tests can list an archive without mocks.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type * as TS from "typescript";
import { cacheKey, cachedBuild } from "../build-cache";
import { PROJECT_ROOT } from "../project-root";

/**
 * The Node.js runtime the services run on in the cloud. Node.js 24 "Krypton": Active LTS from
 * 2025-10-28, Maintenance LTS from 2026-10-20, end of life 2028-04-30 (github.com/nodejs/Release,
 * "Release schedule"); Node.js 20 reached end of life on 2026-04-30 and 22 ends on 2027-04-30.
 * Cloud Run's Node.js 24 runtime is `nodejs24` on the Ubuntu 24.04 stack `google-24`
 * (cloud.google.com/docs/buildpacks/base-images, "Node.js"; run/docs/configuring/services/runtime-base-images).
 */
export const NODE_RUNTIME = { nodeMajor: 24, runtimeId: "nodejs24", stack: "google-24" } as const;

/**
 * Google's base image for the runtime, served from the cell's own region: base images "are hosted in
 * every region where Artifact Registry is available" at
 * `REGION-docker.pkg.dev/serverless-runtimes/STACK/runtimes/RUNTIME_ID`
 * (cloud.google.com/docs/buildpacks/base-images). With a base image set, Cloud Run applies the runtime's
 * security updates without a redeploy (run/docs/configuring/services/automatic-base-image-updates).
 */
export function nodeBaseImage(region: string): string {
  return `${region}-docker.pkg.dev/serverless-runtimes/${NODE_RUNTIME.stack}/runtimes/${NODE_RUNTIME.runtimeId}`;
}

/**
 * Domain of Cloud Run's service agent (`service-<number>@serverless-robot-prod.iam.gserviceaccount.com`),
 * which uses a service's key and fetches its source archive (cloud.google.com/run/docs/securing/using-cmek).
 */
export const CLOUD_RUN_AGENT_DOMAIN = "serverless-robot-prod";

/** One archive entry: a generated text file, a file copied as is, or a whole installed package folder. */
export type ArchiveEntry =
  | { readonly kind: "text"; readonly path: string; readonly text: string }
  | { readonly kind: "file"; readonly path: string; readonly source: string }
  | { readonly kind: "dir"; readonly path: string; readonly source: string };

export interface SourceArchive {
  /** Sorted by path. */
  readonly entries: readonly ArchiveEntry[];
  /** Content hash (sources, compiled output, package.json, every dependency's name@version and place). */
  readonly hash: string;
  /** Archive path of each runtime module's compiled file, by its path relative to the service's folder. */
  readonly compiled: Readonly<Record<string, string>>;
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

/** `functions/collector`: how errors name a folder or file (relative to the project root). */
const labelOf = (abs: string): string => path.relative(PROJECT_ROOT, abs).split(path.sep).join("/");

/**
 * The runtime modules of the service in `dir`: the build entries and every relative module they import,
 * transitively, as paths relative to `dir` (`server.ts`, `../collector/suppression.ts`), sorted.
 */
export function runtimeModules(dir: string): string[] {
  const build = readJson<{ files: string[] }>(path.join(dir, "tsconfig.build.json"));
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(path.join(dir, file), "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s+|\brequire\()["'](\.\.?\/[^"']+)["']/g)) {
      visit(`${path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]))}.ts`);
    }
  };
  for (const entry of build.files) visit(entry);
  return [...seen].sort();
}

/** The repository's TypeScript, loaded only when a module is not in the build cache (it takes a second). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const typescript = (): typeof TS => require("typescript") as typeof TS;

/**
 * Transpiles one module with the compiler options of the service's tsconfig.build.json (CommonJS,
 * ES2022), through the build cache (../build-cache.ts): the TypeScript version and the module's path
 * name the entry, and the module and tsconfig.build.json must still have the content it was built from.
 */
export function transpile(dir: string, file: string): string {
  const source = path.join(dir, file);
  const tsconfig = path.join(dir, "tsconfig.build.json");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = (require("typescript/package.json") as { version: string }).version;
  return cachedBuild("transpile", cacheKey("typescript", version, source), () => ({
    output: transpileNow(dir, file, tsconfig),
    inputs: [source, tsconfig],
  }));
}

function transpileNow(dir: string, file: string, tsconfig: string): string {
  const ts = typescript();
  const build = readJson<{ compilerOptions: Record<string, unknown> }>(tsconfig);
  const { options, errors } = ts.convertCompilerOptionsFromJson(build.compilerOptions, dir);
  if (errors.length > 0) {
    throw new Error(
      `${labelOf(dir)}/tsconfig.build.json: ${ts.flattenDiagnosticMessageText(errors[0].messageText, "\n")}`,
    );
  }
  const out = ts.transpileModule(readFileSync(path.join(dir, file), "utf8"), {
    fileName: path.join(dir, file),
    reportDiagnostics: true,
    compilerOptions: { ...options, sourceMap: false, inlineSourceMap: false, declaration: false },
  });
  const problems = out.diagnostics ?? [];
  if (problems.length > 0) {
    throw new Error(
      `${labelOf(path.join(dir, file))}: ${ts.flattenDiagnosticMessageText(problems[0].messageText, "\n")}`,
    );
  }
  return out.outputText;
}

/** Packages a compiled module loads at run time (`require("x")` left after type-only imports are erased). */
function requiredPackages(js: string): string[] {
  const out: string[] = [];
  for (const m of js.matchAll(/\brequire\(["']([^"'.][^"']*)["']\)/g)) {
    const spec = m[1];
    if (spec.startsWith("node:") || builtinModules.includes(spec.split("/")[0])) continue;
    const parts = spec.split("/");
    out.push(spec.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  return out;
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
export function dependencyDirs(dir: string): string[] {
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
  visit(dir, true, labelOf(dir));
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

/** `dist/` path of each module: below the modules' common folder (the service's own when none leaves it). */
function compiledPaths(dir: string, modules: readonly string[]): Record<string, string> {
  const up = Math.max(0, ...modules.map((m) => (/^(?:\.\.\/)+/.exec(m)?.[0].length ?? 0) / 3));
  const root = path.join(dir, ...Array.from({ length: up }, () => ".."));
  const out: Record<string, string> = {};
  for (const m of modules) {
    const rel = path.relative(root, path.join(dir, m)).split(path.sep).join("/");
    out[m] = `dist/${rel.replace(/\.ts$/, ".js")}`;
  }
  return out;
}

const built = new Map<string, SourceArchive>();

/** Builds the archive's entry list and hash from the files on disk (once per folder and process). */
export function sourceArchive(dir: string): SourceArchive {
  const cached = built.get(dir);
  if (cached !== undefined) return cached;
  const pkg = readJson<PackageJson>(path.join(dir, "package.json"));
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
  const modules = runtimeModules(dir);
  const compiled = compiledPaths(dir, modules);
  const entries: ArchiveEntry[] = [];
  for (const mod of modules) {
    const text = transpile(dir, mod);
    const missing = requiredPackages(text).filter((p) => !declared.has(p));
    if (missing.length > 0)
      throw new Error(
        `${labelOf(path.join(dir, mod))} requires ${missing.join(", ")}, which ${labelOf(dir)}/package.json does not declare: the archive would not have it`,
      );
    entries.push({ kind: "text", path: compiled[mod], text });
  }
  entries.push({ kind: "file", path: "package.json", source: path.join(dir, "package.json") });

  const deps = dependencyDirs(dir).map((abs) => ({ abs, rel: archivePathOf(dir, abs) }));
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
    const dep = readJson<PackageJson>(path.join(d.abs, "package.json"));
    h.update(`${d.rel}=${dep.name}@${dep.version}\0`);
  }
  const archive = { entries, hash: h.digest("hex").slice(0, 16), compiled };
  built.set(dir, archive);
  return archive;
}

/** Every file path the archive holds once unpacked (dir entries expanded), sorted: for tests and review. */
export function listArchiveFiles(archive: Pick<SourceArchive, "entries">): string[] {
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

/** The archive as a Pulumi asset archive: generated files as text, installed packages as folders. */
export function toAssetArchive(entries: readonly ArchiveEntry[]): pulumi.asset.AssetArchive {
  const assets: Record<string, pulumi.asset.Asset | pulumi.asset.Archive> = {};
  for (const e of entries) {
    assets[e.path] =
      e.kind === "text"
        ? new pulumi.asset.StringAsset(e.text)
        : e.kind === "file"
          ? new pulumi.asset.FileAsset(e.source)
          : new pulumi.asset.FileArchive(e.source);
  }
  return new pulumi.asset.AssetArchive(assets);
}

/**
 * Cloud Run fetches a service's archive as its service agent, the identity that pulls a service's images
 * (cloud.google.com/artifact-registry/docs/integrate-cloud-run: images in another project need "Artifact
 * Registry Reader permissions to the Cloud Run Service Agent"); read-only, and only below the service's
 * prefix (IAM conditions on buckets need uniform bucket-level access, which the staging bucket has:
 * cloud.google.com/storage/docs/access-control/iam#conditions).
 */
export function grantArchiveRead(
  name: string,
  args: {
    /** The staging bucket holding the archive. */
    readonly stagingBucket: pulumi.Input<string>;
    /** The project's number: the Cloud Run agent is `service-<number>@serverless-robot-prod...`. */
    readonly projectNumber: pulumi.Input<string>;
    /** The service's object prefix in the bucket (ends in `/`). */
    readonly prefix: string;
    /** The condition's title and description (what the prefix holds). */
    readonly title: string;
    readonly description: string;
  },
  parent: pulumi.Resource,
): gcp.storage.BucketIAMMember {
  return new gcp.storage.BucketIAMMember(
    `${name}-source-reader`,
    {
      bucket: args.stagingBucket,
      role: "roles/storage.objectViewer",
      member: pulumi.interpolate`serviceAccount:service-${args.projectNumber}@${CLOUD_RUN_AGENT_DOMAIN}.iam.gserviceaccount.com`,
      condition: {
        title: args.title,
        description: args.description,
        expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${args.stagingBucket}/objects/${args.prefix}")`,
      },
    },
    { parent },
  );
}
