import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';
import { ApiWaf } from '../constructs/api-waf.ts';
import { viewerAssetBundlingCommands } from '../bundling.ts';
import { AUDIT_APPEND, EmbedFunction, SESSION_UPDATE, TENANT_ITEM_LOOKUP } from '../constructs/embed-function.ts';
import { EmbedRestApi } from '../constructs/embed-rest-api.ts';
import { OperationalAlarms } from '../constructs/operational-alarms.ts';
import type { SigningSecrets } from '../constructs/signing-secrets.ts';
import { TenantDataRole } from '../constructs/tenant-data-role.ts';
import { restApiStageUrl, ViewerRestApi } from '../constructs/viewer-rest-api.ts';
import { ENV, FUNCTION_SPECS } from '../functions.ts';
import { type ApiFunctionName, ROUTES, VIEWER_ROUTES } from '../routes.ts';
import { DATA_TABLE } from '../table-design.ts';

export interface ApiStackProps extends StackProps {
  readonly config: StageConfig;
  readonly userPool: cognito.IUserPool;
  readonly controlTable: dynamodb.ITable;
  readonly dataTable: dynamodb.ITable;
  readonly signingSecrets: SigningSecrets;
  readonly rotationFunction: EmbedFunction;
}

/**
 * The request path: API functions, the tenant-scoped data roles they assume, the REST API built
 * from the route table, the public viewer API (page and bundle, no data) beside it, the WAF in
 * front of both and the alarms on all of it. Stateless, so it can be replaced freely; its inputs
 * (user pool, tables, signing-secret convention) come as props. The viewer lives here, not in a
 * stack of its own, because the two APIs reference each other (embed URLs and the viewer's origin
 * in CORS one way, the API URL the viewer page calls the other): within one stack those are plain
 * references, across stacks they would be an export cycle.
 */
export class ApiStack extends Stack {
  readonly functions: Readonly<Record<ApiFunctionName, EmbedFunction>>;
  readonly tenantDataReader: TenantDataRole;
  readonly tenantDataWriter: TenantDataRole;
  readonly restApi: EmbedRestApi;
  /** The public viewer surface (embed page, viewer bundle): its own REST API, no authorizer, no data. */
  readonly viewerFunction: EmbedFunction;
  readonly viewerApi: ViewerRestApi;
  readonly waf: ApiWaf;
  readonly alarms: OperationalAlarms;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, controlTable, dataTable, signingSecrets } = props;

    const embedTokens = new EmbedFunction(this, 'EmbedTokensFunction', { spec: FUNCTION_SPECS['embed-tokens'], config })
      // The signer: the only API function that can read private keys.
      .bindSigningSecrets(signingSecrets, 'read')
      // Reads embeds and dashboards; records issuances and refusals in the audit log.
      .bindControlTable(controlTable, 'read', [AUDIT_APPEND])
      // Resolves the viewer's verified attributes (tenant, RLS inputs) from the user pool.
      .bindUserPool(props.userPool, ['byUsername']);
    embedTokens.addEnvironment(ENV.tokenIssuer, config.tokenIssuer);
    embedTokens.addEnvironment(ENV.tokenAudience, config.tokenAudience);

    // Validator: verifies with the public key set in the control table, never with Secrets Manager.
    const embedSessions = new EmbedFunction(this, 'EmbedSessionsFunction', {
      spec: FUNCTION_SPECS['embed-sessions'],
      config,
    }).bindControlTable(controlTable, 'readWrite');
    embedSessions.addEnvironment(ENV.tokenIssuer, config.tokenIssuer);
    embedSessions.addEnvironment(ENV.tokenAudience, config.tokenAudience);

    // Reads sessions, dashboards, datasets and RLS; writes only audit events and the session's
    // editable parameters.
    const embedQuery = new EmbedFunction(this, 'EmbedQueryFunction', {
      spec: FUNCTION_SPECS['embed-query'],
      config,
    }).bindControlTable(controlTable, 'read', [AUDIT_APPEND, SESSION_UPDATE]);

    const admin = new EmbedFunction(this, 'AdminFunction', { spec: FUNCTION_SPECS.admin, config })
      .bindControlTable(controlTable, 'readWrite')
      .bindRotationTrigger(signingSecrets, props.rotationFunction)
      // Revoking a user's tokens checks the sub is a user of the admin's own tenant.
      .bindUserPool(props.userPool, ['bySub']);

    // Only embed-query reads dataset rows, and only through this role; it has no grant on the table.
    this.tenantDataReader = new TenantDataRole(this, 'TenantDataReader', {
      table: dataTable,
      design: DATA_TABLE,
      access: 'read',
      trustedRoles: [embedQuery.executionRole],
      description: `Tenant-scoped reads of the data table (${config.stage}); assumed with session tag tenant=<id>`,
    });
    // Imports write rows: a separate role, so the viewer path can never hold write credentials.
    this.tenantDataWriter = new TenantDataRole(this, 'TenantDataWriter', {
      table: dataTable,
      design: DATA_TABLE,
      access: 'write',
      trustedRoles: [admin.executionRole],
      description: `Tenant-scoped reads and writes of the data table (${config.stage}); assumed by admin imports`,
    });
    embedQuery.bindTenantDataRole(this.tenantDataReader);
    admin.bindTenantDataRole(this.tenantDataWriter);

    this.functions = {
      'embed-tokens': embedTokens,
      'embed-sessions': embedSessions,
      'embed-query': embedQuery,
      admin,
    };

    // The public viewer: reads one embed item by key (enabled flag, allowed origins), nothing else.
    this.viewerFunction = new EmbedFunction(this, 'ViewerFunction', {
      spec: FUNCTION_SPECS.viewer,
      config,
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: viewerAssetBundlingCommands,
      },
    }).bindControlTableReads(controlTable, [TENANT_ITEM_LOOKUP]);
    this.viewerApi = new ViewerRestApi(this, 'Viewer', { config, routes: VIEWER_ROUTES, handler: this.viewerFunction });
    // A custom domain (context `viewerBaseUrl`) when there is one, else the viewer API's own stage URL.
    const viewerBaseUrl = config.viewerBaseUrl ?? this.viewerApi.stageUrl;
    const viewerOrigin = config.viewerBaseUrl ? new URL(config.viewerBaseUrl).origin : this.viewerApi.origin;
    embedTokens.addEnvironment(ENV.viewerBaseUrl, viewerBaseUrl);

    // The viewer page calls the API from the viewer's origin, so CORS (preflights and the handlers'
    // ALLOWED_ORIGINS) admits it beside the host apps' origins.
    const corsOrigins = [...new Set([...config.allowedOrigins, viewerOrigin])];
    for (const fn of Object.values(this.functions)) fn.addEnvironment(ENV.allowedOrigins, corsOrigins.join(','));

    this.restApi = new EmbedRestApi(this, 'Api', {
      config,
      routes: ROUTES,
      userPool: props.userPool,
      functions: this.functions,
      corsOrigins,
    });
    this.viewerFunction.addEnvironment(ENV.apiBaseUrl, restApiStageUrl(this.restApi.api, config.stage));
    this.viewerFunction.addEnvironment(ENV.viewerBaseUrl, viewerBaseUrl);
    // Stages with logging need the account-level CloudWatch role, which the main API sets up.
    this.viewerApi.api.deploymentStage.node.addDependency(this.restApi.api.node.findChild('Account'));

    this.waf = new ApiWaf(this, 'Waf', { config, stage: this.restApi.api.deploymentStage });
    this.waf.associate('ViewerStageAssociation', this.viewerApi.api.deploymentStage);
    this.alarms = new OperationalAlarms(this, 'Alarms', {
      config,
      stage: this.restApi.api.deploymentStage,
      functions: { ...this.functions, viewer: this.viewerFunction, 'rotate-signing-key': props.rotationFunction },
    });

    new CfnOutput(this, 'ApiUrl', { value: this.restApi.api.url, description: 'Base URL of the API stage' });
    new CfnOutput(this, 'ViewerUrl', {
      value: viewerBaseUrl,
      description: 'Base URL of the embed viewer: embed URLs are <ViewerUrl>/embed/<tenantId>/<embedId>#token=…',
    });
    new CfnOutput(this, 'WebAclArn', { value: this.waf.webAcl.attrArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }
}
