/**
 * The pack's policies called in the calling process, as `@pulumi/policy/server` calls them, without the
 * gRPC hop (ADR 0016). It answers `configure` / `analyze` / `analyzeStack` with the diagnostics the
 * served pack returns: the same policy objects (policy/policies.ts), the library's own deserializer and
 * unknown-checking proxy on the same plain values the request would carry, the server's order, levels,
 * report semantics and "can't run during preview" downgrade (server.js `makeAnalyzeRpcFun`,
 * `makeAnalyzeStackRpcFun`, `makeReportViolationFun`, @pulumi/policy 1.21.0).
 *
 * What it leaves out is the part whose cost has nothing to do with the rules: the served pack decodes
 * every resource's protobuf Struct again for every stack policy, ~17 s of every 45 s the policy tests
 * spent. Here each properties object is deserialized once (and frozen), and one args object serves a
 * request's policies in turn. Pulumi's own compliance policies are unit-tested the same way
 * (pulumi/compliance-policies, docs/policies/policy/unit-test.md: validate functions called with
 * constructed args). The gate, `npm start` and the end-to-end tests keep the served pack
 * (./analyzer.ts); test/policy/in-process.test.ts holds the two to the same answers, field for field, on
 * requests carrying every rule case's mutation.
 */
import type {
  EnforcementLevel,
  PolicyPackConfig,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import pack from "../../policy/package.json";
import { PACK_NAME, policies } from "../../policy/policies";
import type { AnalyzerDiagnostic, AnalyzerSession } from "./analyzer";
import { providerIndex, providerOf, stackProperties, toStructValue, type ResourceInput } from "./requests";

/* eslint-disable @typescript-eslint/no-require-imports */
// The library's own (internal, untyped) deserializer and proxy: what the server applies to each request.
const { deserializeProperties } = require("@pulumi/policy/deserialize") as {
  deserializeProperties(
    struct: { toJavaScript(): Record<string, unknown> },
    proxySecrets: boolean,
  ): Record<string, unknown>;
};
const { unknownCheckingProxy, UnknownValueError } = require("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T extends object>(v: T): T;
  UnknownValueError: new (...args: never[]) => Error;
};
/* eslint-enable @typescript-eslint/no-require-imports */

type Props = Record<string, unknown>;
type Severity = AnalyzerDiagnostic["severity"];
/** A diagnostic as the server records it before encoding (server.js `makeReportViolationFun`). */
interface Recorded {
  policyName: string;
  message: string;
  description: string;
  urn?: string;
  enforcementLevel: EnforcementLevel;
  severity?: string;
}
/** The pack config as `configure` leaves it in the server: per policy, its properties and level. */
type ServerConfig = Record<string, Props & { enforcementLevel: EnforcementLevel }>;

/** Freezes `v` and everything reachable from it. */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * The values a request carries (protobuf Structs hold plain JSON), as the library deserializes them:
 * once per properties object (a rule case changes one resource of ~750; the rest are the baseline's own
 * objects), frozen, so a rule that wrote to its input would throw here instead of leaking into the next
 * case. The library's proxy returns a frozen property's value as is (proxy.js), and the rules read the
 * proxy's target anyway (policy/policies.ts `unwrap`).
 */
const deserialized = new WeakMap<object, Props>();
function deserialize(props: Readonly<Props>, key: object = props): Props {
  let d = deserialized.get(key);
  if (!d) {
    d = deepFreeze(deserializeProperties({ toJavaScript: () => toStructValue(props) }, false));
    deserialized.set(key, d);
  }
  return d;
}

/**
 * `analyze` answers per resource object, provider object and pack config, for frozen resources only (the
 * policy tests' baseline is deep-frozen, test/policy/helpers.ts). A rule case changes one resource of ~750
 * and passes the others as the same objects, and a resource policy sees nothing but its request and its
 * config, so only the changed resources run the policies again; `analyzeStack` always runs them all. The
 * served session of the tests remembers its answers the same way, per request bytes (`remembering`).
 */
interface Answer {
  readonly config: string;
  readonly provider: ResourceInput | undefined;
  readonly diagnostics: readonly AnalyzerDiagnostic[];
}
const answers = new WeakMap<ResourceInput, Answer[]>();
const frozen = (r: ResourceInput | undefined): boolean =>
  r === undefined || (Object.isFrozen(r) && Object.isFrozen(r.inputs));

const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];
const severityOf = (s: string | undefined): Severity =>
  SEVERITIES.includes(s as Severity) ? (s as Severity) : "unspecified";

const isResourcePolicy = (p: (typeof policies)[number]): p is ResourceValidationPolicy =>
  typeof (p as ResourceValidationPolicy).validateResource === "function";
const isStackPolicy = (p: (typeof policies)[number]): p is StackValidationPolicy =>
  typeof (p as StackValidationPolicy).validateStack === "function";

/** Starts nothing: the policies run in this process. `close()` is a no-op kept for the interface. */
export function inProcessAnalyzer(): AnalyzerSession {
  let config: ServerConfig = {};
  let configKey = JSON.stringify(config);

  const levelOf = (p: (typeof policies)[number]): EnforcementLevel => {
    const level = config[p.name]?.enforcementLevel || p.enforcementLevel || "mandatory";
    // The server reports remediate as mandatory (a stack policy cannot remediate; a violation left
    // after remediation is one).
    return level === "remediate" ? "mandatory" : level;
  };
  /** What `getConfig()` returns to a policy: its config without the level (made once per `configure`). */
  let configProps = new Map<string, Props>();
  const configOf = (name: string): Props => {
    let props = configProps.get(name);
    if (!props) {
      props = { ...(config[name] ?? {}) };
      delete props.enforcementLevel;
      configProps.set(name, props);
    }
    return props;
  };
  /** The policy being run and its level: one reporter per request reads them (the server makes one per policy). */
  interface Running {
    p: (typeof policies)[number];
    level: EnforcementLevel;
  }
  const reporter =
    (run: Running, out: Recorded[]): ReportViolation =>
    (message, urn) => {
      const { p, level } = run;
      const description = p.description;
      if (typeof message === "object") {
        // The object form the server accepts (and our rules use for advisories): untyped in the SDK.
        const info = message as {
          name?: string;
          message?: string;
          description?: string;
          urn?: string;
        } & Partial<Recorded>;
        out.push({
          policyName: info.name || p.name,
          message: info.message || info.description || description,
          urn: info.urn,
          description: info.description || description,
          enforcementLevel: info.enforcementLevel || level,
          severity: info.severity || p.severity,
        });
      } else {
        out.push({
          policyName: p.name,
          message: message ? `${description}\n${message}` : description,
          urn,
          description,
          enforcementLevel: level,
          severity: p.severity,
        });
      }
    };
  /** Runs one validation as the server does, without a microtask hop when it is synchronous. */
  const validate = async (run: Running, out: Recorded[], call: () => unknown): Promise<void> => {
    try {
      const result = call();
      if (result !== null && typeof result === "object" && typeof (result as Promise<unknown>).then === "function") {
        await result;
      }
    } catch (e) {
      if (!(e instanceof UnknownValueError)) throw e;
      out.push(cannotRun(run.p, e));
    }
  };
  /** The server's answer to a policy that read an unknown through the proxy: an advisory "can't run". */
  const cannotRun = (p: (typeof policies)[number], e: Error): Recorded => ({
    policyName: p.name,
    message: `can't run policy '${p.name}' from policy pack '${PACK_NAME}@v${pack.version}' during preview: ${e.message}`,
    description: p.description,
    enforcementLevel: "advisory",
    severity: p.severity,
  });
  const toDiagnostics = (ds: readonly Recorded[]): AnalyzerDiagnostic[] =>
    ds.map((d) => ({
      policyName: d.policyName,
      policyPackName: PACK_NAME,
      policyPackVersion: pack.version,
      description: d.description,
      message: d.message,
      enforcementLevel: d.enforcementLevel,
      severity: severityOf(d.severity),
      urn: d.urn ?? "",
    }));
  /** The request's provider (./requests.ts `providerOf`), its properties deserialized like the resource's. */
  const providerView = (r: ResourceInput, providers: ReadonlyMap<string, ResourceInput>) => {
    const provider = providerOf(r, providers);
    return provider && { ...provider, props: unknownCheckingProxy(deserialize(provider.props)) };
  };
  const optionsOf = (r: ResourceInput) => ({
    protect: r.protect ?? false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  });
  const typeCheck = (type: string, props: Props) => ({
    isType: (cls: { __pulumiType?: unknown }) => cls.__pulumiType === type,
    asType: (cls: { __pulumiType?: unknown }) => (cls.__pulumiType === type ? props : undefined),
  });
  const notApplicable = (reason?: string): never => {
    throw new Error(`notApplicable is not used by this pack's policies (${reason ?? ""})`);
  };

  return {
    packName: PACK_NAME,
    packVersion: pack.version,
    policies: policies.map((p) => ({
      name: p.name,
      description: p.description,
      enforcementLevel: p.enforcementLevel ?? "mandatory",
    })),
    async configure(c: PolicyPackConfig) {
      const next: ServerConfig = {};
      for (const [name, value] of Object.entries(c)) {
        if (typeof value === "string") {
          next[name] = { enforcementLevel: value };
        } else {
          const { enforcementLevel, ...props } = value as { enforcementLevel?: EnforcementLevel } & Props;
          next[name] = { ...toStructValue(props), enforcementLevel: enforcementLevel ?? "mandatory" };
        }
      }
      config = next;
      configKey = JSON.stringify(next);
      configProps = new Map();
    },

    async analyze(r, providers) {
      // The declared provider the request carries (a default provider's facts are part of `r`).
      const own = r.provider ? providers.get(r.provider.urn) : undefined;
      const remember = frozen(r) && frozen(own);
      const known = remember ? answers.get(r)?.find((a) => a.config === configKey && a.provider === own) : undefined;
      if (known) return known.diagnostics.map((d) => ({ ...d }));
      const out: Recorded[] = [];
      const props = unknownCheckingProxy(deserialize(r.inputs));
      const provider = providerView(r, providers);
      // One args object and one reporter for the request, following the policy being run.
      const run: Running = { p: policies[0], level: "mandatory" };
      const args = {
        type: r.type,
        props,
        urn: r.urn,
        name: r.name,
        opts: optionsOf(r),
        stackTags: new Map<string, string>(),
        ...typeCheck(r.type, props),
        getConfig: () => configOf(run.p.name),
        notApplicable,
        ...(provider ? { provider } : {}),
      } as unknown as ResourceValidationArgs;
      const report = reporter(run, out);
      for (const p of policies) {
        const level = levelOf(p);
        if (level === "disabled" || !isResourcePolicy(p)) continue;
        run.p = p;
        run.level = level;
        await validate(run, out, () =>
          (p.validateResource as (a: ResourceValidationArgs, rv: ReportViolation) => unknown)(args, report),
        );
      }
      const diagnostics = toDiagnostics(out);
      if (remember) answers.set(r, [...(answers.get(r) ?? []), { config: configKey, provider: own, diagnostics }]);
      return diagnostics.map((d) => ({ ...d }));
    },

    async analyzeStack(resources) {
      const out: Recorded[] = [];
      const stackPolicies = policies.filter((p) => isStackPolicy(p) && levelOf(p) !== "disabled");
      if (stackPolicies.length === 0) return [];
      const providers = providerIndex(resources);
      // The engine's view after the step (outputs over inputs), deserialized once for every stack policy.
      const views: PolicyResource[] = resources.map((r) => {
        const props = unknownCheckingProxy(deserialize(stackProperties(r), r));
        const provider = providerView(r, providers);
        return {
          type: r.type,
          props,
          urn: r.urn,
          name: r.name,
          opts: optionsOf(r),
          dependencies: [],
          propertyDependencies: {},
          ...typeCheck(r.type, props),
          ...(provider ? { provider } : {}),
        } as unknown as PolicyResource;
      });
      const byUrn = new Map(views.map((v) => [v.urn, v]));
      resources.forEach((r, i) => {
        const v = views[i] as { -readonly [K in keyof PolicyResource]: PolicyResource[K] };
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) v.parent = parent;
        v.dependencies = (r.dependencies ?? []).map((d) => byUrn.get(d)).filter((d): d is PolicyResource => !!d);
        v.propertyDependencies = Object.fromEntries(
          Object.entries(r.propertyDependencies ?? {}).map(([k, urns]) => [
            k,
            urns.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => !!d),
          ]),
        );
      });
      const run: Running = { p: stackPolicies[0], level: "mandatory" };
      const report = reporter(run, out);
      for (const p of stackPolicies) {
        run.p = p;
        run.level = levelOf(p);
        const args = {
          resources: views,
          getConfig: () => configOf(p.name),
          stackTags: new Map<string, string>(),
          notApplicable,
        } as unknown as StackValidationArgs;
        await validate(run, out, () => (p as StackValidationPolicy).validateStack(args, report));
      }
      return toDiagnostics(out);
    },

    async close() {},
  };
}
