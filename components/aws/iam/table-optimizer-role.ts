/**
 * The role Glue table optimizers (compaction, snapshot retention, orphan-file deletion) run as, for the
 * Iceberg tables under one S3 prefix of the warehouse (Glue user guide, "Table optimization
 * prerequisites"): read/write the tables' files, use the lake key, read and update the tables in the
 * catalog, get Lake Formation data access, and write the optimizers' logs; plus the Lake Formation grant
 * on the database's tables, because Lake Formation (not IAM alone) governs the catalog.
 *
 * `arn` resolves only once the policy and the grant exist: a table optimizer created with it never runs
 * before it may. Its children keep the logical names the optimizer roles had before this component
 * (`<name>` for the role and policy, `<name>-lf` for the grant) and are aliased to the former parent
 * (see service-role.ts), so existing stacks keep their roles.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, movedChildOptions, ServiceRole, type MovedChildrenOptions } from "./service-role";
import {
  glueTables,
  lakeFormationDataAccess,
  listPrefixes,
  readWriteObjects,
  useKey,
  writeLogsUnder,
} from "./statements";

/** The log groups Glue's Iceberg optimizers write to (Glue user guide, "Viewing optimizer logs"). */
export const OPTIMIZER_LOG_GROUPS = [
  "/aws-glue/iceberg-compaction/",
  "/aws-glue/iceberg-retention/",
  "/aws-glue/iceberg-orphan-file-deletion/",
] as const;

/** What the optimizers may do in Lake Formation on the tables they maintain. */
export const OPTIMIZER_LF_PERMISSIONS = ["DESCRIBE", "SELECT", "INSERT", "DELETE", "ALTER"] as const;

export interface TableOptimizerRoleArgs {
  /** The account of the role, the catalog and the log groups. */
  readonly accountId: string;
  /** The region of the catalog and the log groups. */
  readonly region: string;
  /** What the role is for (shown in the IAM console). */
  readonly description: string;
  /** Physical role name. @default a unique name Pulumi generates */
  readonly roleName?: string;
  /** ARN of the warehouse bucket holding the tables. */
  readonly warehouseBucketArn: pulumi.Input<string>;
  /** Key prefix of the tables' files, ending in `/` (`curated/`, `marts/`). */
  readonly prefix: string;
  /** The key the tables' files are encrypted with. */
  readonly lakeKeyArn: pulumi.Input<string>;
  /** The Glue database of the tables. */
  readonly databaseName: pulumi.Input<string>;
  /** Tables of the database the optimizers may read and update. @default ["*"] (every table) */
  readonly tables?: readonly string[];
  /**
   * The word in the statement ids: `<label>Files`, `List<label>`, `<label>Tables` (e.g. `Curated`).
   */
  readonly sidLabel: string;
  /**
   * `catalogId` of the Lake Formation grant (and its table). @default omitted (the provider's account)
   */
  readonly lakeFormationCatalogId?: string;
}

export class TableOptimizerRole extends pulumi.ComponentResource {
  public readonly role: ServiceRole;
  public readonly grant: aws.lakeformation.Permissions;
  /** The role ARN, resolved once its policy and its Lake Formation grant exist. */
  public readonly arn: pulumi.Output<string>;

  constructor(name: string, args: TableOptimizerRoleArgs, opts?: MovedChildrenOptions) {
    super("lakehouse:aws:TableOptimizerRole", name, args, componentOptions(opts));
    const formerParent = opts?.formerParent ?? opts?.parent;
    const { accountId, region, sidLabel: label } = args;
    this.role = new ServiceRole(
      name,
      {
        service: "glue.amazonaws.com",
        accountId,
        description: args.description,
        roleName: args.roleName,
        statements: [
          readWriteObjects(`${label}Files`, args.warehouseBucketArn, args.prefix),
          listPrefixes(`List${label}`, args.warehouseBucketArn, [args.prefix]),
          useKey("LakeKey", args.lakeKeyArn),
          glueTables(
            `${label}Tables`,
            ["glue:GetTable", "glue:UpdateTable"],
            { region, accountId },
            args.databaseName,
            args.tables,
          ),
          lakeFormationDataAccess(),
          writeLogsUnder("OptimizerLogs", { region, accountId }, OPTIMIZER_LOG_GROUPS),
        ],
      },
      { parent: this, ...(formerParent ? { formerParent } : {}) },
    );
    const catalog = args.lakeFormationCatalogId !== undefined ? { catalogId: args.lakeFormationCatalogId } : {};
    this.grant = new aws.lakeformation.Permissions(
      `${name}-lf`,
      {
        principal: this.role.arn,
        ...catalog,
        permissions: [...OPTIMIZER_LF_PERMISSIONS],
        table: { ...catalog, databaseName: args.databaseName, wildcard: true },
      },
      movedChildOptions(this, opts),
    );
    this.arn = pulumi.all([this.role.arn, this.grant.id]).apply(([arn]) => arn);
    this.registerOutputs({ arn: this.arn });
  }
}
