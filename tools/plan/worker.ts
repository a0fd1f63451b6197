/**
 * Runs in a child process: evaluates the program under Pulumi mocks with the given config and writes
 * the recorded plan as JSON. A child process keeps the Pulumi runtime of the caller untouched and lets a
 * config error end the run exactly as it would end `pulumi preview`. `worker.ts <input.json>` evaluates
 * one plan and exits; `worker.ts --serve` (what evaluate.ts starts) evaluates one plan after another,
 * each in a runtime store of its own (see `serve`, ADR 0016).
 */
// First: TypeScript is loaded only if the program serializes a function (../lazy-typescript.ts).
import "../lazy-typescript";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Plan, PlanMode, PlannedAlias, PlannedProvider, PlannedResource } from "./types";
import { RecordingMocks, type ProviderRecord } from "./mocks";

interface WorkerInput {
  readonly project: string;
  readonly stack: string;
  readonly stackFile: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  readonly preview: boolean;
  readonly mode: PlanMode;
  readonly program: string;
  readonly out: string;
}

export type WorkerResult =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly kind: "config" | "program"; readonly message: string; readonly problems: string[] };

/** The part of the runtime's store (runtime/state.js `LocalStore`) a new store carries over. */
interface RuntimeStore {
  resourcePackages?: Map<string, unknown>;
  resourceModules?: Map<string, unknown>;
}

/* eslint-disable @typescript-eslint/no-require-imports */
// Internal runtime modules: the store (see `freshRuntimeStore`), and the mock monitor, whose request objects
// carry parent, dependencies and protection, which the public Mocks interface does not pass on.
const state = require("@pulumi/pulumi/runtime/state") as { getStore(): RuntimeStore };
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
  debuggablePromise<T>(p: Promise<T>, ctx: unknown): Promise<T>;
};
const settings = require("@pulumi/pulumi/runtime/settings") as {
  getMonitor(): { registerResource(req: RegisterRequest, cb: (err: unknown, resp?: RegisterResponse) => void): void };
  waitForRPCs?: () => Promise<void>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

interface Struct {
  toJavaScript(): Record<string, unknown>;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getObject(): Struct | undefined;
  getDependenciesList(): string[];
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getAliasesList(): AliasMessage[];
  getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
}
interface AliasMessage {
  getUrn(): string;
  getSpec():
    | {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        getParenturn(): string;
        getNoparent(): boolean;
      }
    | undefined;
}
interface RegisterResponse {
  getUrn(): string;
  getId(): string;
  getObject(): Struct | undefined;
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The engine's sentinel for a value unknown during preview (kept as is in the record). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** Serialized engine values to plain JSON: secrets unwrapped, resource references to their id or URN. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>;
    if (v[SIG_KEY] === SECRET_SIG) return plain(v.value);
    // A reference to a resource whose id is unknown (being created) is unknown as an id-valued input.
    if (v[SIG_KEY] === RESOURCE_SIG) return (typeof v.id === "string" && v.id) || (v.id === UNKNOWN ? UNKNOWN : v.urn);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return value;
}

/**
 * Paths (`a.b[0].c`) of the values a serialized engine value marks secret, which `plain` unwraps: the
 * state encrypts exactly these, so a test can tell a secret recorded as one from one leaked in clear.
 */
function secretPathsOf(value: unknown, at = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretPathsOf(v, `${at}[${i}]`));
  if (typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>;
    if (v[SIG_KEY] === SECRET_SIG) return [at];
    if (v[SIG_KEY] === RESOURCE_SIG) return [];
    return Object.entries(v).flatMap(([k, x]) => secretPathsOf(x, at ? `${at}.${k}` : k));
  }
  return [];
}

/** The runtime's own stack-trace settings, restored for a plan that asks for traces. */
const withTraces = {
  callsites: (pulumi.Resource as unknown as { callsites(): unknown[] }).callsites,
  limit: Error.stackTraceLimit,
  debuggablePromise: debuggable.debuggablePromise,
};

/**
 * `debuggablePromise` (runtime/debuggable.js) as the runtime has it, without what serves only its
 * exit-time report of leaked promises: three properties defined on every promise it tracks (an id, a
 * context and a stack trace), which turn each into a slow dictionary-mode object, and the exit listener.
 * The leak bookkeeping and the promise chain (`then`, then `catch`: the same microtask ticks, so resources
 * register in the same order) are kept; the plan never reads a leak report. A sixth less plan-worker
 * CPU, with the four repository plans identical byte for byte (ADR 0016, decision 15). The runtime reads
 * it from the module's exports at each call (test/foundation/plan-worker.test.ts checks that it still does).
 */
function lightDebuggablePromise<T>(p: Promise<T>): Promise<T> {
  const store = state.getStore() as RuntimeStore & { leakCandidates: Set<Promise<unknown>> };
  store.leakCandidates.add(p);
  return p
    .then((val) => {
      store.leakCandidates.delete(p);
      return val;
    })
    .catch((err: { promise?: unknown }) => {
      store.leakCandidates.delete(p);
      err.promise = p;
      throw err;
    });
}

/**
 * The runtime formats a stack trace for every resource (its source position, from an unbounded
 * `new Error().stack`) and for every promise it tracks (`debuggablePromise`), and Node maps each frame
 * through tsx's source maps: a third of a plan's CPU time, for text the plan never records. So the
 * plan evaluates without stack traces and with `lightDebuggablePromise`, unless
 * `LAKEHOUSE_PLAN_STACK_TRACES=1`: evaluateStack sets it when it re-runs a failed program, so a program
 * error is still reported with its trace, by the runtime's own functions.
 */
function skipStackTraces(): void {
  // Set both ways: a serving worker may run a plan with traces after one without.
  const traces = process.env.LAKEHOUSE_PLAN_STACK_TRACES === "1";
  (pulumi.Resource as unknown as { callsites(): unknown[] }).callsites = traces ? withTraces.callsites : () => [];
  Error.stackTraceLimit = traces ? withTraces.limit : 0;
  debuggable.debuggablePromise = traces ? withTraces.debuggablePromise : lightDebuggablePromise;
}

/** The config error the last evaluation ended on, when it came before anything was declared. */
let configError: Error | undefined;

async function main(input: WorkerInput): Promise<WorkerResult> {
  configError = undefined;
  skipStackTraces();
  pulumi.runtime.setAllConfig(input.config, input.secretKeys);
  const mocks = new RecordingMocks({ unknownOutputs: input.mode === "first-preview" });
  await pulumi.runtime.setMocks(mocks, input.project, input.stack, input.preview);

  const resources: PlannedResource[] = [];
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, resp) => {
      if (!err && resp) {
        const type = req.getType();
        const serialized = req.getObject()?.toJavaScript() ?? {};
        const inputs = plain(serialized) as Record<string, unknown>;
        const urn = resp.getUrn();
        const providerMatch = /^pulumi:providers:(.+)$/.exec(type);
        if (providerMatch) {
          // Providers receive structured settings JSON-encoded (defaultTags, allowedAccountIds...).
          const decoded = Object.fromEntries(
            Object.entries(inputs).map(([k, v]) => [k, typeof v === "string" && /^[[{]/.test(v) ? tryJson(v) : v]),
          );
          const rec: ProviderRecord = { urn, pkg: providerMatch[1], name: req.getName(), inputs: decoded };
          mocks.providers.set(urn, rec);
        }
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((v, k) => {
          propertyDependencies[k] = v.getUrnsList();
        });
        resources.push({
          urn,
          type,
          name: req.getName(),
          custom: req.getCustom(),
          parent: req.getParent() || undefined,
          provider: providerRef(req.getProvider()),
          inputs,
          outputs: plain(resp.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
          id: resp.getId() || undefined,
          dependencies: req.getDependenciesList(),
          propertyDependencies,
          secretPaths: secretPathsOf(serialized),
          protect: req.getProtect() === true,
          retainOnDelete: req.getRetainondelete() === true,
          ...aliasesOf(req),
        });
      }
      cb(err, resp);
    });

  function providerRef(ref: string): PlannedProvider | undefined {
    if (!ref) return undefined;
    const urn = ref.slice(0, ref.lastIndexOf("::"));
    const rec = mocks.providers.get(urn);
    const pkg = rec?.pkg ?? /pulumi:providers:([^:]+)::/.exec(urn)?.[1] ?? "unknown";
    const name = rec?.name ?? urn.split("::").pop() ?? "";
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    return {
      urn,
      pkg,
      name,
      region: str(rec?.inputs.region),
      project: str(rec?.inputs.project),
      isDefault: name.startsWith("default"),
    };
  }

  // The Pulumi runner fails the program on an unhandled rejection (cmd/run/run.js); so does the plan, or
  // a resource whose input threw inside an `apply` would silently be missing from the record.
  const rejections: string[] = [];
  const declared: string[] = [];
  process.on("unhandledRejection", (reason: unknown) => {
    rejections.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
  });

  const started = Date.now();
  let outputs: Record<string, unknown> = {};
  try {
    const programPath = path.resolve(input.program);
    // The stack's own `outputs.promise()` drops an object holding any unknown, so keep the exports.
    let exports: Record<string, unknown> = {};
    await pulumi.runtime.runInPulumiStack(async () => {
      // Every resource the program declares, so one that never registers (an input that threw inside an
      // `apply`) fails the plan instead of silently missing from it.
      pulumi.runtime.registerStackTransformation((a) => {
        declared.push(`${a.type}::${a.name}`);
        return undefined;
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exports = require(programPath) as Record<string, unknown>;
      return exports;
    });
    await settings.waitForRPCs?.();
    outputs = plain(await resolveOutputs(exports)) as Record<string, unknown>;
  } catch (err) {
    const e = err as Error & { problems?: string[] };
    if (e.name === "StackConfigError") {
      if (declared.length === 0 && resources.length === 0) configError = e;
      return { ok: false, kind: "config", message: e.message, problems: [...(e.problems ?? [])] };
    }
    return { ok: false, kind: "program", message: e.stack ?? String(err), problems: [] };
  }

  const registered = new Set(resources.map((r) => `${r.type}::${r.name}`));
  const lost = declared.filter((d) => !registered.has(d));
  if (lost.length > 0) {
    rejections.push(
      `${lost.length} declared resource(s) never registered (an input failed, e.g. a throw inside an apply): ${lost.join(", ")}`,
    );
  }
  if (rejections.length > 0) {
    return { ok: false, kind: "program", message: `The program failed:\n${rejections.join("\n")}`, problems: [] };
  }

  // The cell of each resource: its own or its provider's `cell` tag/label, else its nearest ancestor's.
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const providerCell = (r: PlannedResource): string | undefined => {
    const p = r.provider ? mocks.providers.get(r.provider.urn) : undefined;
    const tags = (p?.inputs.defaultTags as { tags?: Record<string, string> } | undefined)?.tags;
    const labels = p?.inputs.defaultLabels as Record<string, string> | undefined;
    return tags?.cell ?? labels?.cell;
  };
  const cellOf = (r: PlannedResource | undefined, depth = 0): string | undefined => {
    if (!r || depth > 50) return undefined;
    if (r.type === "lakehouse:cell:Cell") return r.name;
    return providerCell(r) ?? cellOf(r.parent ? byUrn.get(r.parent) : undefined, depth + 1);
  };
  const withCells = resources.map((r) => ({ ...r, cell: cellOf(r) }));

  return {
    ok: true,
    plan: {
      project: input.project,
      stack: input.stack,
      mode: input.mode,
      stackFile: input.stackFile,
      config: input.config,
      secretKeys: input.secretKeys,
      resources: withCells,
      invokes: mocks.invokes,
      outputs,
      durationMs: Date.now() - started,
    },
  };
}

/** The request's aliases, empty parts left out; nothing when it has none. */
function aliasesOf(req: RegisterRequest): { aliases?: PlannedAlias[] } {
  const aliases = req.getAliasesList().map((a): PlannedAlias => {
    const spec = a.getSpec();
    if (!spec) return { urn: a.getUrn() };
    const parts: Record<string, string | boolean> = {
      name: spec.getName(),
      type: spec.getType(),
      stack: spec.getStack(),
      project: spec.getProject(),
      parentUrn: spec.getParenturn(),
      noParent: spec.getNoparent(),
    };
    return Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== "" && v !== false));
  });
  return aliases.length > 0 ? { aliases } : {};
}

function tryJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/**
 * Stack outputs as plain values, unknowns as the engine's sentinel. `apply` never runs on an unknown
 * during preview, and an object holding one unknown lifts to a wholly unknown Output, so each value is
 * read on its own through the SDK's `promise(withUnknowns)`.
 */
async function resolveOutputs(value: unknown, depth = 0): Promise<unknown> {
  if (depth > 20) return value;
  if (pulumi.Output.isInstance(value)) {
    const o = value as unknown as { isKnown: Promise<boolean>; promise(withUnknowns: boolean): Promise<unknown> };
    const inner = await o.promise(true);
    if (!(await o.isKnown) && (inner === undefined || pulumi.isUnknown(inner))) return UNKNOWN;
    return resolveOutputs(inner, depth + 1);
  }
  if (pulumi.isUnknown(value)) return UNKNOWN;
  if (value instanceof Promise) return resolveOutputs(await value, depth + 1);
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveOutputs(v, depth + 1)));
  if (typeof value === "object" && value !== null && !pulumi.Resource.isInstance(value)) {
    const entries = await Promise.all(
      Object.entries(value as Record<string, unknown>).map(async ([k, v]) => [k, await resolveOutputs(v, depth + 1)]),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** One evaluation: reads the input file, writes the result to `input.out`; whether the plan succeeded. */
async function evaluateFile(inFile: string): Promise<boolean> {
  const input = JSON.parse(fs.readFileSync(inFile, "utf8")) as WorkerInput;
  let result: WorkerResult;
  try {
    result = await main(input);
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    result = { ok: false, kind: "program", message, problems: [] };
  }
  fs.writeFileSync(input.out, JSON.stringify(result));
  return result.ok;
}

/** Messages between evaluate.ts and a serving worker (`worker.ts --serve`, over the IPC channel). */
export interface ServeRequest {
  readonly inFile: string;
  /** The variables the plan reads per evaluation (stack traces, component inputs); null: unset. */
  readonly env: Readonly<Record<string, string | null>>;
}
export interface ServeReply {
  /** The worker serves on: the plan succeeded, or its config was rejected before anything was declared. */
  readonly serving: boolean;
}

/**
 * A new runtime store for the next evaluation, as a new process has once the packages are loaded. The
 * runtime keeps a program's state (config, options, monitor, stack resource, pending registrations, the
 * termination flag) in `global.globalStore` (@pulumi/pulumi runtime/state.js), created on first use; the
 * packages' resource modules, registered when they load, live there too and are carried over.
 * `setMocks` and `setAllConfig` reset most of it anyway, which is what Pulumi's own unit tests rely on
 * when several programs run in one process; a new store also covers what they leave alone.
 *
 * Not `withLocalStorage`, with which the Automation API runs inline programs: on Node 20 an
 * AsyncLocalStorage store switches on the promise hooks for the rest of the process, and they cost a
 * served plan a fifth of its CPU time (measured alternately, ADR 0016).
 */
function freshRuntimeStore(): void {
  const global = globalThis as { globalStore?: RuntimeStore };
  const before = global.globalStore;
  if (before === undefined) return; // the worker's first evaluation: the runtime has not made one yet
  global.globalStore = undefined;
  const store = state.getStore();
  if (store === before) throw new Error("the Pulumi runtime store was not replaced");
  store.resourcePackages = before.resourcePackages;
  store.resourceModules = before.resourceModules;
}

/**
 * A serving worker evaluates one plan after another, each as a fresh program: every evaluation starts
 * with a fresh Pulumi runtime store (`freshRuntimeStore`) and the project's own modules are unloaded
 * afterwards, so the next `require` of the program runs it again from the top. Packages (@pulumi/aws,
 * @pulumi/gcp...) stay loaded and compiled: that is the time saved (about 2 s of module loading per plan,
 * and a warm JIT). test/foundation/plan-worker.test.ts holds a
 * served plan to the one-shot process's, byte for byte. After a failed evaluation the worker exits,
 * so whatever a failing program left running cannot reach the next one; except after a config error
 * found before anything was declared (the program validates its config first), which left nothing.
 */
function serve(): void {
  const loadedBefore = new Set(Object.keys(require.cache));
  const nodeModules = `${path.sep}node_modules${path.sep}`;
  /** Rejections nobody handled since the current evaluation finished (undefined: no evaluation running). */
  let late: unknown[] | undefined;
  process.on("disconnect", () => process.exit(0));
  // A rejection between evaluations belongs to none of them: end the worker rather than let it linger.
  process.on("unhandledRejection", (reason) => {
    if (late === undefined) process.exit(1);
    late.push(reason);
  });
  process.on("message", (req: ServeRequest) => {
    late = [];
    for (const [k, v] of Object.entries(req.env)) {
      if (v === null) delete process.env[k];
      else process.env[k] = v;
    }
    const listeners = process.listeners("unhandledRejection");
    freshRuntimeStore();
    void evaluateFile(req.inFile).then(async (ok) => {
      for (const l of process.listeners("unhandledRejection")) {
        if (!listeners.includes(l)) process.off("unhandledRejection", l);
      }
      // Rejections the evaluation left behind surface once its microtasks have drained (the runtime
      // rejects the stack's outputs too when the program throws: the same error, reported once).
      late = [];
      await new Promise((resolve) => setImmediate(resolve));
      const leftBehind = late.filter((r) => r !== configError);
      late = undefined;
      // The program's modules (and the fixtures') load again for the next plan; packages stay.
      for (const k of Object.keys(require.cache)) {
        if (!loadedBefore.has(k) && !k.includes(nodeModules)) delete require.cache[k];
      }
      const reply: ServeReply = { serving: leftBehind.length === 0 && (ok || configError !== undefined) };
      process.send?.(reply, () => {
        if (!reply.serving) process.exit(0);
      });
    });
  });
}

if (process.argv[2] === "--serve") serve();
else void evaluateFile(process.argv[2]).then(() => process.exit(0));
