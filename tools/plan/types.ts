/**
 * The offline plan's record: what `pulumi preview` would register, captured under Pulumi mocks.
 * Tests, the policy gate, the diagram and the deck all read this shape; treat it as public API.
 */

/** The provider a resource was registered with, resolved from its provider reference. */
export interface PlannedProvider {
  readonly urn: string;
  /** `aws` or `gcp` (or `random`, ...): the package of `pulumi:providers:<pkg>`. */
  readonly pkg: string;
  readonly name: string;
  /** AWS `region` or GCP `region` input of the provider. */
  readonly region?: string;
  /** GCP `project` input of the provider. */
  readonly project?: string;
  /** True when the runtime had to create a default provider (no explicit `provider` in opts). */
  readonly isDefault: boolean;
}

export interface PlannedResource {
  readonly urn: string;
  /** Type token, e.g. `aws:s3/bucket:Bucket`, `lakehouse:aws:SecureBucket`, `pulumi:providers:aws`. */
  readonly type: string;
  /** Logical name. */
  readonly name: string;
  /** True for resources managed by a provider; false for ComponentResources and the Stack. */
  readonly custom: boolean;
  /** URN of the parent (the Stack for top-level resources). */
  readonly parent?: string;
  /** The provider this resource is managed by (custom resources only). */
  readonly provider?: PlannedProvider;
  /** Inputs as the engine receives them (secrets unwrapped, resource references as URNs/ids). */
  readonly inputs: Record<string, unknown>;
  /** Outputs the mocks returned (inputs merged with realistic computed values such as `arn`, `id`). */
  readonly outputs: Record<string, unknown>;
  /** Physical id returned by the mocks. */
  readonly id?: string;
  /** URNs this resource depends on (explicit `dependsOn` plus those implied by inputs). */
  readonly dependencies: readonly string[];
  /** Per input property, the URNs it depends on. */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  /**
   * Paths (`a.b[0].c`, as in `inputs`) of the input values the engine received marked secret: the state
   * stores these encrypted, everything else in `inputs` in plain text. Set by the plan (empty when none);
   * optional so that hand-built records (policy fixtures) need not carry it.
   */
  readonly secretPaths?: readonly string[];
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  /**
   * The aliases the engine received (its former identities, so a move keeps the resource): a full URN,
   * or a spec whose parts the engine fills from the resource (`parentUrn`, or `noParent`). Absent when none.
   */
  readonly aliases?: readonly PlannedAlias[];
  /** The cell (from the `cell` tag/label of the resource or its nearest ancestor component). */
  readonly cell?: string;
}

/** One alias as sent to the engine (pulumi/proto alias.proto): a URN, or a spec. */
export type PlannedAlias =
  | { readonly urn: string }
  | {
      readonly name?: string;
      readonly type?: string;
      readonly stack?: string;
      readonly project?: string;
      readonly parentUrn?: string;
      readonly noParent?: boolean;
    };

/** A data-source call (invoke) the program made while it was evaluated. */
export interface PlannedInvoke {
  /** Invoke token, e.g. `gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount`. */
  readonly token: string;
  /** URN of the provider it went through (undefined: a default provider). */
  readonly provider?: string;
  /** Its arguments, as sent. */
  readonly inputs: Record<string, unknown>;
}

/**
 * How provider-computed outputs are answered:
 * - `realistic`: every output invented with a realistic value (ARNs, ids, e-mails), to check that
 *   values flow where they should;
 * - `first-preview`: every output a provider computes is unknown, as in the first `pulumi preview` of
 *   a new stack (nothing exists yet): only inputs the program wrote itself are known.
 */
export type PlanMode = "realistic" | "first-preview";

export interface Plan {
  readonly project: string;
  readonly stack: string;
  readonly mode: PlanMode;
  /** The stack file the config came from, relative to the project root. */
  readonly stackFile: string;
  /** The flattened config the program saw (`ns:key` -> string), secure values as placeholders. */
  readonly config: Readonly<Record<string, string>>;
  /** Config keys whose stack-file value was `secure:` and got a placeholder. */
  readonly secretKeys: readonly string[];
  /** Every registered resource, in registration order. */
  readonly resources: readonly PlannedResource[];
  /** Data-source calls the program issued (an invoke whose inputs or dependencies were unknown is not issued). */
  readonly invokes: readonly PlannedInvoke[];
  /** Stack outputs (index.ts exports); unknown values are the engine's sentinel string. */
  readonly outputs: Record<string, unknown>;
  /** Wall-clock time of the evaluation, in milliseconds. */
  readonly durationMs: number;
}

/** Options for one evaluation. */
export interface EvaluateOptions {
  /** Stack name (`dev`, `prod`, ...): reads `Pulumi.<stack>.yaml` from the project root. */
  readonly stack: string;
  /** Another stack file to read instead (fixtures). Relative to the project root or absolute. */
  readonly stackFile?: string;
  /**
   * Config to lay over the stack file, keyed `ns:key`; object values are JSON-encoded as Pulumi does.
   * A value of `null` removes the key.
   */
  readonly configOverrides?: Readonly<Record<string, unknown>>;
  /** Evaluate as a preview (`pulumi.runtime.isDryRun()` true). @default true */
  readonly preview?: boolean;
  /** Another program to evaluate instead of `index.ts` (test fixtures). @default "index.ts" */
  readonly program?: string;
  /** Realistic outputs, or unknown as in a first preview (forces `preview`). @default "realistic" */
  readonly mode?: PlanMode;
  /**
   * Record components' inputs as `pulumi up` sends them to the engine (and so to the state). The plan
   * normally skips them (`PULUMI_NODEJS_SKIP_COMPONENT_INPUTS`, @pulumi/pulumi `resource.js`: a
   * ComponentResource then registers `{}`), which a real run does not do unless that variable is set.
   * @default false
   */
  readonly recordComponentInputs?: boolean;
}
