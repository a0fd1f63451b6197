/**
 * Builds the analyzer's protobuf requests from the offline plan, shaped as the engine shapes them:
 * `analyze` gets a resource's inputs with its provider resource; `analyzeStack` gets every resource's
 * outputs with parent, dependencies and property dependencies. Unknown values travel as the engine's
 * sentinel strings (`04da6b54-...`), untouched.
 */
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import type { PlannedResource } from "../plan/types";

/** The preview sentinel for an unknown string (and the generic computed value). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** What the builders need of a resource: a `PlannedResource`, or a hand-written fixture. */
export type ResourceInput = Pick<PlannedResource, "urn" | "type" | "name" | "inputs"> &
  Partial<
    Pick<
      PlannedResource,
      "outputs" | "parent" | "provider" | "dependencies" | "propertyDependencies" | "protect" | "custom"
    >
  >;

function clean(v: unknown, seen: Set<object>): JavaScriptValue | undefined {
  if (v === null) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : null;
    case "bigint":
      return Number(v);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      break;
  }
  const o = v as object;
  if (seen.has(o)) return null;
  seen.add(o);
  try {
    if (Array.isArray(o)) return o.map((x) => clean(x, seen) ?? null);
    const out: { [k: string]: JavaScriptValue } = {};
    for (const [k, x] of Object.entries(o)) {
      const c = clean(x, seen);
      if (c !== undefined) out[k] = c;
    }
    return out;
  } finally {
    seen.delete(o);
  }
}

/** Plain JSON for `Struct.fromJavaScript` (which rejects undefined, functions and class instances). */
export function toStructValue(props: Readonly<Record<string, unknown>>): { [k: string]: JavaScriptValue } {
  const c = clean(props, new Set());
  return c !== null && typeof c === "object" && !Array.isArray(c) ? (c as { [k: string]: JavaScriptValue }) : {};
}

const struct = (props: Readonly<Record<string, unknown>>): Struct => Struct.fromJavaScript(toStructValue(props));

function options(r: ResourceInput): analyzerproto.AnalyzerResourceOptions {
  const o = new analyzerproto.AnalyzerResourceOptions();
  o.setProtect(r.protect ?? false);
  o.setIgnorechangesList([]);
  o.setAliasesList([]);
  o.setAdditionalsecretoutputsList([]);
  o.setCustomtimeouts(new analyzerproto.AnalyzerResourceOptions.CustomTimeouts());
  if (r.parent) o.setParent(r.parent);
  return o;
}

/** Index of provider resources by URN, for attaching each resource's provider with its inputs. */
export function providerIndex(resources: readonly ResourceInput[]): Map<string, ResourceInput> {
  return new Map(resources.filter((r) => r.type.startsWith("pulumi:providers:")).map((r) => [r.urn, r]));
}

/**
 * The provider resource the engine attaches to a request: the declared provider's inputs, or, for a
 * default provider, only what the plan recorded about it (its region and project).
 */
export function providerOf(
  r: ResourceInput,
  providers: ReadonlyMap<string, ResourceInput>,
): { urn: string; type: string; name: string; props: Readonly<Record<string, unknown>> } | undefined {
  if (!r.provider) return undefined;
  const declared = providers.get(r.provider.urn);
  if (declared) return { urn: r.provider.urn, type: declared.type, name: declared.name, props: declared.inputs };
  const props: Record<string, unknown> = {};
  if (r.provider.region) props.region = r.provider.region;
  if (r.provider.project) props.project = r.provider.project;
  return { urn: r.provider.urn, type: `pulumi:providers:${r.provider.pkg}`, name: r.provider.name, props };
}

function providerResource(
  r: ResourceInput,
  providers: ReadonlyMap<string, ResourceInput>,
): analyzerproto.AnalyzerProviderResource | undefined {
  const provider = providerOf(r, providers);
  if (!provider) return undefined;
  const p = new analyzerproto.AnalyzerProviderResource();
  p.setUrn(provider.urn);
  p.setType(provider.type);
  p.setName(provider.name);
  p.setProperties(struct(provider.props));
  return p;
}

export function analyzeRequest(
  r: ResourceInput,
  providers: ReadonlyMap<string, ResourceInput>,
): analyzerproto.AnalyzeRequest {
  const req = new analyzerproto.AnalyzeRequest();
  req.setType(r.type);
  req.setName(r.name);
  req.setUrn(r.urn);
  req.setProperties(struct(r.inputs));
  req.setOptions(options(r));
  const p = providerResource(r, providers);
  if (p) req.setProvider(p);
  return req;
}

/** What `analyzeStack` sees of a resource: it runs after the step, so the engine sends outputs (the plan's over its inputs). */
export function stackProperties(r: ResourceInput): Readonly<Record<string, unknown>> {
  return r.outputs && Object.keys(r.outputs).length > 0 ? { ...r.inputs, ...r.outputs } : r.inputs;
}

export function analyzerResource(
  r: ResourceInput,
  providers: ReadonlyMap<string, ResourceInput>,
): analyzerproto.AnalyzerResource {
  const res = new analyzerproto.AnalyzerResource();
  res.setType(r.type);
  res.setName(r.name);
  res.setUrn(r.urn);
  res.setProperties(struct(stackProperties(r)));
  res.setOptions(options(r));
  const p = providerResource(r, providers);
  if (p) res.setProvider(p);
  if (r.parent) res.setParent(r.parent);
  res.setDependenciesList([...(r.dependencies ?? [])]);
  const pd = res.getPropertydependenciesMap();
  for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
    const d = new analyzerproto.AnalyzerPropertyDependencies();
    d.setUrnsList([...urns]);
    pd.set(k, d);
  }
  return res;
}

export function analyzeStackRequest(resources: readonly ResourceInput[]): analyzerproto.AnalyzeStackRequest {
  const providers = providerIndex(resources);
  const req = new analyzerproto.AnalyzeStackRequest();
  req.setResourcesList(resources.map((r) => analyzerResource(r, providers)));
  return req;
}
