/**
 * The collector's runnable source archive, made by the program itself at `pulumi up` (ADR 0009): Cloud
 * Run runs it on Google's Node.js base image without a build ("source deploy without build"), so no
 * Docker, Cloud Build or image registry is involved and the service depends only on the uploaded object.
 * The builder is shared with the other services deployed the same way (../source-archive.ts); this module
 * names what is the collector's own.
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
import * as path from "node:path";
import {
  dependencyDirs,
  listArchiveFiles,
  nodeBaseImage,
  NODE_RUNTIME,
  runtimeModules,
  sourceArchive,
  type ArchiveEntry,
  type SourceArchive,
} from "../source-archive";

export { listArchiveFiles, type ArchiveEntry };

/** The folder the collector's sources and package.json live in. */
export const COLLECTOR_SOURCE_DIR = path.join(__dirname, "..", "..", "..", "functions", "collector");

/** The Node.js runtime the collector runs on in the cloud (../source-archive.ts NODE_RUNTIME says why 24). */
export const COLLECTOR_RUNTIME = NODE_RUNTIME;

/** Google's base image for the runtime, served from the cell's own region (../source-archive.ts). */
export function collectorBaseImage(region: string): string {
  return nodeBaseImage(region);
}

/** The compiled entry point: `server.ts` `main()` (functions/collector/README.md, "Deployment contract"). */
export const COLLECTOR_ENTRY = "dist/server.js";
/** The container command: the same as the package's `start` script, without npm in between (signals reach node). */
export const COLLECTOR_COMMAND = ["node", COLLECTOR_ENTRY] as const;

export type CollectorArchive = SourceArchive;

/** The runtime modules: the build entries and every relative module they import, transitively (sorted). */
export function collectorRuntimeModules(dir: string = COLLECTOR_SOURCE_DIR): string[] {
  return runtimeModules(dir);
}

/**
 * The installed folders of the production dependency closure of the collector's package.json (absolute
 * paths, sorted). A declared dependency that is not installed is an error: the archive would not run.
 */
export function collectorDependencyDirs(dir: string = COLLECTOR_SOURCE_DIR): string[] {
  return dependencyDirs(dir);
}

/** Builds the archive's entry list and hash from the files on disk (once per folder and process). */
export function collectorArchive(dir: string = COLLECTOR_SOURCE_DIR): CollectorArchive {
  return sourceArchive(dir);
}
