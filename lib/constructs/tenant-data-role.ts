import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { KeyDesign } from '../table-design.ts';
import { indexArns } from './index-arns.ts';

/** `read` serves viewers' queries; `write` serves admin imports. Neither can Scan. */
export type TenantDataAccess = 'read' | 'write';

/** The only session tag a caller may (and must) pass: the verified tenant id. */
export const TENANT_SESSION_TAG = 'tenant';

/**
 * The ABAC condition of every tenant-scoped statement: each partition key the request touches
 * (table or index) must begin with `<tenant session tag>#`. `ForAllValues` is vacuously true
 * when a request carries no leading keys, which is exactly what a Scan does; that is why Scan is
 * never granted to these roles.
 */
export const TENANT_LEADING_KEYS_CONDITION = Object.freeze({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`\${aws:PrincipalTag/${TENANT_SESSION_TAG}}#*`] },
});

/** Trust conditions: the `tenant` session tag must be present and must be the only tag key. */
export const TENANT_TRUST_CONDITIONS = Object.freeze({
  Null: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: 'false' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_SESSION_TAG] },
});

/** Item reads that always name their partition keys (so the condition above always has something to check). */
export const TENANT_DATA_READ_ACTIONS = Object.freeze(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);

/** Item writes, each of which names the partition key it writes. */
export const TENANT_DATA_WRITE_ACTIONS = Object.freeze([
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
]);

export interface TenantDataRoleProps {
  readonly table: ITable;
  /** Key design of the table: its named indexes are granted explicitly (no `index/*`). */
  readonly design: KeyDesign;
  readonly access: TenantDataAccess;
  /** Execution roles of the functions allowed to assume this role (with a `tenant` session tag). */
  readonly trustedRoles: readonly iam.IRole[];
  readonly description: string;
}

/**
 * A tenant-scoped IAM role over the data table. A function assumes it with the session tag
 * `tenant=<verified tenant id>` and gets credentials that can only touch items whose partition key
 * begins with that tenant: the database enforces the isolation even if application code forgets a
 * filter. The trusting functions hold no direct grant on the data table.
 */
export class TenantDataRole extends Construct {
  readonly role: iam.Role;
  readonly access: TenantDataAccess;
  /** The data table this role is scoped to. */
  readonly table: ITable;
  private readonly trusted: readonly iam.IRole[];

  constructor(scope: Construct, id: string, props: TenantDataRoleProps) {
    super(scope, id);
    if (props.trustedRoles.length === 0) throw new Error(`${id}: a tenant data role needs at least one trusted role`);
    this.access = props.access;
    this.table = props.table;
    this.trusted = [...props.trustedRoles];
    const { table } = props;

    const actions =
      props.access === 'read'
        ? [...TENANT_DATA_READ_ACTIONS]
        : [...TENANT_DATA_READ_ACTIONS, ...TENANT_DATA_WRITE_ACTIONS];

    this.role = new iam.Role(this, 'Role', {
      description: props.description,
      // Only these execution roles, only with a `tenant` session tag, and with no other tag keys
      // (a caller cannot smuggle in a second principal tag that a future policy might trust).
      assumedBy: new iam.CompositePrincipal(
        ...props.trustedRoles.map(
          (trusted) =>
            new iam.PrincipalWithConditions(new iam.SessionTagsPrincipal(new iam.ArnPrincipal(trusted.roleArn)), {
              ...TENANT_TRUST_CONDITIONS,
            }),
        ),
      ),
      inlinePolicies: {
        TenantScopedData: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: props.access === 'read' ? 'TenantScopedItemReads' : 'TenantScopedItemReadsAndWrites',
              actions: actions.sort(),
              resources: [table.tableArn, ...indexArns(table, props.design)],
              conditions: { ...TENANT_LEADING_KEYS_CONDITION },
            }),
          ],
        }),
      },
    });
  }

  /** True when `role` is one of the execution roles this role trusts. */
  trusts(role: iam.IRole): boolean {
    return this.trusted.includes(role);
  }

  /** Lets a trusted function role assume this role with session tags (the identity-policy half). */
  grantAssume(grantee: iam.IRole): void {
    if (!this.trusts(grantee)) {
      throw new Error(`${this.node.path} does not trust ${grantee.node.path}; add it to trustedRoles`);
    }
    grantee.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `Assume${this.access === 'read' ? 'TenantDataReader' : 'TenantDataWriter'}`,
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [this.role.roleArn],
      }),
    );
  }
}
