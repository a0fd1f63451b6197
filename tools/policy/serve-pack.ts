/**
 * The analyzer process: serves the pack's policies over gRPC exactly as `new PolicyPack` does when
 * the Pulumi CLI runs `policy/index.ts` (both call `@pulumi/policy/server`'s `serve`), minus reading
 * the version from the working directory's package.json. It prints the port on stdout, and the
 * engine (here: tools/policy/analyzer.ts) connects and calls configure / analyze / analyzeStack.
 *
 * Run as a child process only: `serve` allows one pack per process and keeps it alive.
 */
// First: TypeScript is loaded only if something uses it (../lazy-typescript.ts).
import "../lazy-typescript";
// Then: one deserialization of a resource's properties per request, shared by the policies.
import "../../policy/deserialize-once";
import type { EnforcementLevel, PolicyPackArgs, PolicyPackConfig } from "@pulumi/policy";
import pack from "../../policy/package.json";
import { PACK_NAME, policies } from "../../policy/policies";

type Serve = (
  name: string,
  version: string,
  enforcementLevel: EnforcementLevel,
  args: PolicyPackArgs,
  initialConfig?: PolicyPackConfig,
) => void;

// `serve` is exported by server.js but typed @internal (server.d.ts declares nothing).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { serve } = require("@pulumi/policy/server") as { serve: Serve };

serve(PACK_NAME, pack.version, "mandatory", { policies });
