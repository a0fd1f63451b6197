/**
 * An engine-side client for the pack's analyzer: starts tools/policy/serve-pack.ts as a child
 * process (as the Pulumi CLI starts a policy pack plugin), reads the port it prints, and speaks the
 * `pulumirpc.Analyzer` gRPC protocol with the protobuf messages from `@pulumi/pulumi/proto`.
 * Nothing in the calling process constructs a PolicyPack or serves a pack.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import * as grpc from "@grpc/grpc-js";
import type { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { PROJECT_ROOT } from "../../components/project-root";
import { TSX_NODE_ARGS } from "../tsx-loader";
import { analyzeRequest, analyzeStackRequest, toStructValue, type ResourceInput } from "./requests";

/** A diagnostic as the engine receives it. */
export interface AnalyzerDiagnostic {
  readonly policyName: string;
  readonly policyPackName: string;
  readonly policyPackVersion: string;
  readonly description: string;
  /** The full message: the policy description, a newline, then the violation detail. */
  readonly message: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly severity: "unspecified" | "low" | "medium" | "high" | "critical";
  /** Empty for stack-level diagnostics that name no resource. */
  readonly urn: string;
}

export interface AnalyzerPolicyInfo {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
}

/**
 * The engine's three calls to a pack, on plan resources. `startAnalyzer` sends them as protobuf requests
 * (./requests.ts) to the served pack; `inProcessAnalyzer` (./in-process.ts) calls the policies directly.
 */
export interface AnalyzerSession {
  readonly packName: string;
  readonly packVersion: string;
  readonly policies: readonly AnalyzerPolicyInfo[];
  configure(config: PolicyPackConfig): Promise<void>;
  /** `analyze`: one resource's inputs, with its provider (looked up in `providers` by URN). */
  analyze(r: ResourceInput, providers: ReadonlyMap<string, ResourceInput>): Promise<AnalyzerDiagnostic[]>;
  /** `analyzeStack`: every resource after the step, with parents and dependencies. */
  analyzeStack(resources: readonly ResourceInput[]): Promise<AnalyzerDiagnostic[]>;
  close(): Promise<void>;
}

const LEVELS: Record<number, EnforcementLevel> = {
  [analyzerproto.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerproto.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerproto.EnforcementLevel.DISABLED]: "disabled",
  [analyzerproto.EnforcementLevel.REMEDIATE]: "remediate",
};
const TO_LEVEL: Record<EnforcementLevel, analyzerproto.EnforcementLevel> = {
  advisory: analyzerproto.EnforcementLevel.ADVISORY,
  mandatory: analyzerproto.EnforcementLevel.MANDATORY,
  disabled: analyzerproto.EnforcementLevel.DISABLED,
  remediate: analyzerproto.EnforcementLevel.REMEDIATE,
};
const SEVERITIES: Record<number, AnalyzerDiagnostic["severity"]> = {
  [analyzerproto.PolicySeverity.POLICY_SEVERITY_UNSPECIFIED]: "unspecified",
  [analyzerproto.PolicySeverity.POLICY_SEVERITY_LOW]: "low",
  [analyzerproto.PolicySeverity.POLICY_SEVERITY_MEDIUM]: "medium",
  [analyzerproto.PolicySeverity.POLICY_SEVERITY_HIGH]: "high",
  [analyzerproto.PolicySeverity.POLICY_SEVERITY_CRITICAL]: "critical",
};

function toDiagnostics(resp: analyzerproto.AnalyzeResponse): AnalyzerDiagnostic[] {
  return resp.getDiagnosticsList().map((d) => ({
    policyName: d.getPolicyname(),
    policyPackName: d.getPolicypackname(),
    policyPackVersion: d.getPolicypackversion(),
    description: d.getDescription(),
    message: d.getMessage(),
    enforcementLevel: LEVELS[d.getEnforcementlevel()] ?? "advisory",
    severity: SEVERITIES[d.getSeverity()] ?? "unspecified",
    urn: d.getUrn(),
  }));
}

/** Waits for the first stdout line (the port), failing with the child's stderr if it exits first. */
function readPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    const rl = readline.createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error(`policy analyzer did not start within ${timeoutMs} ms\n${stderr}`)),
      timeoutMs,
    );
    rl.once("line", (line) => {
      clearTimeout(timer);
      const port = Number(line.trim());
      if (Number.isInteger(port) && port > 0) resolve(port);
      else reject(new Error(`policy analyzer printed '${line}' instead of a port\n${stderr}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`policy analyzer exited with code ${code}\n${stderr}`));
    });
  });
}

const unary = <Req, Res>(
  fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> =>
  new Promise((resolve, reject) => {
    fn(req, (err, res) => (err ? reject(err) : resolve(res)));
  });

/**
 * Starts the pack's analyzer and returns a session. The caller must `close()` it.
 * @param servePath the analyzer entry point (tests may pass a fixture pack); defaults to serve-pack.ts
 */
export async function startAnalyzer(servePath = path.join(__dirname, "serve-pack.ts")): Promise<AnalyzerSession> {
  const child = spawn(process.execPath, [...TSX_NODE_ARGS, servePath], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let port: number;
  try {
    port = await readPort(child, 60_000);
  } catch (e) {
    child.kill();
    throw e;
  }
  child.removeAllListeners("exit");
  const client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    // The engine raises the limit the same way (plans of a few thousand resources exceed 4 MB).
    "grpc.max_send_message_length": 400 * 1024 * 1024,
    "grpc.max_receive_message_length": 400 * 1024 * 1024,
  });
  const info = await unary<Empty, analyzerproto.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
  return {
    packName: info.getName(),
    packVersion: info.getVersion(),
    policies: info.getPoliciesList().map((p) => ({
      name: p.getName(),
      description: p.getDescription(),
      enforcementLevel: LEVELS[p.getEnforcementlevel()] ?? "advisory",
    })),
    async configure(config) {
      const req = new analyzerproto.ConfigureAnalyzerRequest();
      const map = req.getPolicyconfigMap();
      for (const [name, value] of Object.entries(config)) {
        const pc = new analyzerproto.PolicyConfig();
        if (typeof value === "string") {
          pc.setEnforcementlevel(TO_LEVEL[value]);
        } else {
          const { enforcementLevel, ...props } = value as { enforcementLevel?: EnforcementLevel } & Record<
            string,
            unknown
          >;
          pc.setEnforcementlevel(TO_LEVEL[enforcementLevel ?? "mandatory"]);
          pc.setProperties(Struct.fromJavaScript(toStructValue(props)));
        }
        map.set(name, pc);
      }
      await unary(client.configure.bind(client), req);
    },
    async analyze(r, providers) {
      return toDiagnostics(
        await unary<analyzerproto.AnalyzeRequest, analyzerproto.AnalyzeResponse>(
          client.analyze.bind(client),
          analyzeRequest(r, providers),
        ),
      );
    },
    async analyzeStack(resources) {
      return toDiagnostics(
        await unary<analyzerproto.AnalyzeStackRequest, analyzerproto.AnalyzeResponse>(
          client.analyzeStack.bind(client),
          analyzeStackRequest(resources),
        ),
      );
    },
    async close() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill();
        await exited;
      }
    },
  };
}
