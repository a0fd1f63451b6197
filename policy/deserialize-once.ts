/**
 * One deserialization of a resource's properties per request, shared by every policy of the pack.
 *
 * `@pulumi/policy`'s server (1.21.0, server.js) turns a resource's protobuf properties into a plain
 * object inside its loop over the policies: once per resource policy in `analyze`, once per stack policy
 * and resource in `analyzeStack`, and once more per policy for the resource's provider. This pack has 30
 * resource policies and 28 stack policies, so the prod plan's 1,659 resources were decoded about 50,000
 * times per preview; the decoding was a fifth of the analyzer's CPU time (ADR 0016, decision 13).
 *
 * The server reads `deserializeProperties` from the module's exports at each call, so replacing the export
 * memoizes it: the same protobuf Struct (the request's own, which google-protobuf keeps per message)
 * gives the same object. Each policy still gets a proxy of its own over it (`unknownCheckingProxy`).
 * The object is shared, so no policy may write to its props; no rule does (they read through frozen
 * views, ./policies.ts). Deserializations that keep secrets as proxies (`proxySecrets`, used only when
 * remediating) are not memoized. Entries live as long as the request's Struct (a WeakMap).
 *
 * Imported first by the two entry points that serve the pack: ./index.ts (the Pulumi CLI) and
 * tools/policy/serve-pack.ts (the offline gate). test/policy/deserialize-once.test.ts checks that the
 * server still calls through the export, so an upgrade that stops it fails a test instead of silently
 * making the pack slower.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
interface DeserializeModule {
  deserializeProperties(struct: object, proxySecrets: boolean): Record<string, unknown>;
}
const deserialize = require("@pulumi/policy/deserialize") as DeserializeModule;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Marks the memoizing function, so importing this module twice (or from two copies) wraps once. */
const MEMOIZED = Symbol.for("lakehouse-compliance.deserialize-once");

type Deserialize = DeserializeModule["deserializeProperties"] & { [MEMOIZED]?: true };

/** Wraps `module.deserializeProperties` in the per-Struct memo (exported for the tests). */
export function memoizeDeserialization(module: DeserializeModule): void {
  const original = module.deserializeProperties as Deserialize;
  if (original[MEMOIZED]) return;
  const plain = new WeakMap<object, Record<string, unknown>>();
  const memoized: Deserialize = (struct, proxySecrets) => {
    if (proxySecrets) return original(struct, proxySecrets);
    let props = plain.get(struct);
    if (props === undefined) {
      props = original(struct, false);
      plain.set(struct, props);
    }
    return props;
  };
  memoized[MEMOIZED] = true;
  module.deserializeProperties = memoized;
}

memoizeDeserialization(deserialize);
