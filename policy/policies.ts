/**
 * The pack's policies, built from the rules by domain. Importable without starting the analyzer:
 * `index.ts` hands `policies` to `new PolicyPack`, and the offline gate hands the same array to
 * `@pulumi/policy/server`'s `serve` in a child process (tools/policy/serve-pack.ts).
 */
import type {
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { readSettings, settingsSchema, type PackSettings } from "./config";
import { auditRules } from "./rules/audit";
import {
  isRecord,
  matchesType,
  ownProps,
  reportUnknown,
  UnknownInputError,
  type ProviderView,
  type ResourceView,
  type Rule,
  type RuleContext,
} from "./rules/common";
import { encryptionRules } from "./rules/encryption";
import { leastPrivilegeRules } from "./rules/least-privilege";
import { networkRules } from "./rules/network";
import { protectionRules } from "./rules/protection";
import { publicAccessRules } from "./rules/public-access";
import { residencyRules } from "./rules/residency";
import { retentionRules } from "./rules/retention";
import { transitRules } from "./rules/transit";

export const PACK_NAME = "lakehouse-compliance";

/** Every rule with its metadata (articles, severity, remediation), for the matrix and the tests. */
export const rules: readonly Rule[] = [
  ...encryptionRules,
  ...transitRules,
  ...residencyRules,
  ...retentionRules,
  ...publicAccessRules,
  ...leastPrivilegeRules,
  ...networkRules,
  ...auditRules,
  ...protectionRules,
];

/**
 * `@pulumi/policy` wraps props in a proxy that throws on unknowns the moment they are read, and the
 * engine then downgrades the whole policy to an advisory "can't run during preview". The rules read
 * the raw object instead (the proxy exposes it under this key) and decide themselves (ADR 0010): an
 * unknown config fact (region, location, project, tags) is a violation at the policy's level; an
 * unknown reference to a resource of the same update is an advisory "checked when known", and the
 * rule still enforces every known value. Never a silent pass.
 */
const PROXY_TARGET = "__getSpecialProxyTarget";
function unwrap(props: Record<string, unknown>): Record<string, unknown> {
  const target: unknown = props[PROXY_TARGET];
  return isRecord(target) ? target : props;
}

function providerView(
  p: { type: string; name: string; urn: string; props: Record<string, unknown> } | undefined,
): ProviderView | undefined {
  return p ? { type: p.type, name: p.name, urn: p.urn, props: unwrap(p.props) } : undefined;
}

/** The object form of a violation is accepted by the server (server.js makeReportViolationFun) but not typed. */
type ReportAny = (
  message: string | { message: string; enforcementLevel: "advisory"; urn?: string },
  urn?: string,
) => void;

/** The settings are read when a rule first asks for them: many rules never do. */
function context(rule: Rule, config: unknown, report: ReportViolation): RuleContext {
  const reportAny = report as unknown as ReportAny;
  let settings: PackSettings | undefined;
  return {
    get settings() {
      return (settings ??= readSettings(config));
    },
    report: (message, urn) => report(message, urn),
    advise: (message, urn) =>
      reportAny({ message: `${rule.description}\n${message}`, enforcementLevel: "advisory", urn }),
  };
}

/** Runs `fn`, reporting an unknown it meets (`reportUnknown`: fails closed or "checked when known"). */
function checkKnown(ctx: RuleContext, urn: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UnknownInputError)) throw e;
    reportUnknown(ctx, e, urn);
  }
}

const opts = (o: PolicyResourceOptions | undefined): boolean => o?.protect === true;

function fromArgs(args: ResourceValidationArgs): ResourceView {
  return ownProps({
    type: args.type,
    name: args.name,
    urn: args.urn,
    props: unwrap(args.props),
    provider: providerView(args.provider),
    protect: opts(args.opts),
    dependencies: [],
    propertyDependencies: {},
  });
}

/**
 * One read-only view per resource object. The server hands each stack policy fresh resource objects, so
 * there every view is made once; a caller that shares them between policies (the in-process analyzer of
 * the tests, tools/policy/in-process.ts) shares the views too. Frozen: no rule writes to a view.
 */
const stackViews = new WeakMap<PolicyResource, ResourceView>();

function fromStack(r: PolicyResource): ResourceView {
  const seen = stackViews.get(r);
  if (seen) return seen;
  const deps: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.propertyDependencies)) deps[k] = v.map((d) => d.urn);
  const view = Object.freeze(
    ownProps({
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: unwrap(r.props),
      provider: providerView(r.provider),
      protect: opts(r.opts),
      dependencies: Object.freeze(r.dependencies.map((d) => d.urn)),
      propertyDependencies: Object.freeze(deps),
    }),
  );
  stackViews.set(r, view);
  return view;
}

/** Tags shown by `pulumi policy ls` and the Pulumi Cloud UI: domain and every article served. */
const tagsOf = (rule: Rule): string[] => [
  rule.domain,
  ...rule.articles.map((a) => `${a.law} ${a.article}${a.interpretation ? " (interpretation)" : ""}`),
];

export function toPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
  const base = {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    severity: rule.severity,
    remediationSteps: rule.remediation,
    tags: tagsOf(rule),
    configSchema: settingsSchema,
  };
  if (rule.kind === "resource") {
    return {
      ...base,
      validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!matchesType(rule.resourceTypes, args.type)) return;
        const ctx = context(rule, args.getConfig(), report);
        const view = fromArgs(args);
        checkKnown(ctx, args.urn, () => rule.validate(view, ctx));
      },
    };
  }
  return {
    ...base,
    validateStack: (args, report) => {
      const ctx = context(rule, args.getConfig(), report);
      const resources = args.resources.map(fromStack);
      // A stack rule that meets an unknown reports it once and stops: the rest of its joins may depend
      // on the unknown value (rules that loop over resources use `eachKnown` to go on past it).
      checkKnown(ctx, "", () => rule.validate(resources, ctx));
    },
  };
}

export const policies: Policies = rules.map(toPolicy);

/** Default enforcement level per policy, for building a pack config. */
export const defaultLevels = Object.fromEntries(rules.map((r) => [r.name, r.enforcementLevel]));
