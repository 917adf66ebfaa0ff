import { type App, CrossStackReferences, type Environment, ReferenceStrength, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { StageConfig } from './config.ts';
import { ApiStack } from './stacks/api-stack.ts';
import { AuthStack } from './stacks/auth-stack.ts';
import { DataStack } from './stacks/data-stack.ts';

export interface EmbedStacks {
  readonly auth: AuthStack;
  readonly data: DataStack;
  readonly api: ApiStack;
}

/**
 * Adds the product's stacks for one stage to `app` and registers cdk-nag (AWS Solutions) over
 * all of them. Used by `lib/app.ts` and by the infrastructure tests, so the tests check exactly
 * what `cdk synth` produces. Stack names carry the stage: several stages can share an account.
 */
export function addEmbedStacks(app: App, config: StageConfig, env: Environment): EmbedStacks {
  // Exports/imports: CloudFormation refuses to delete the data or auth stack while the API uses
  // them. Set on the app (before any stack exists) so it does not depend on a cdk.json flag.
  CrossStackReferences.of(app).consume(ReferenceStrength.STRONG);
  const prefix = `SecureEmbed-${config.stage}`;
  const tags = { project: 'secure-embed', stage: config.stage };
  const common = { env, tags, terminationProtection: config.isProduction };

  const auth = new AuthStack(app, `${prefix}-Auth`, {
    ...common,
    config,
    description: `Secure embed ${config.stage}: Cognito user pool, groups and host-app client`,
  });
  const data = new DataStack(app, `${prefix}-Data`, {
    ...common,
    config,
    description: `Secure embed ${config.stage}: control and data tables, signing-key convention and rotation`,
  });
  const api = new ApiStack(app, `${prefix}-Api`, {
    ...common,
    config,
    description: `Secure embed ${config.stage}: REST API, functions, tenant-scoped roles, WAF and alarms`,
    userPool: auth.userPool,
    controlTable: data.controlTable,
    dataTable: data.dataTable,
    signingSecrets: data.signingSecrets,
    rotationFunction: data.rotationFunction,
  });

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { auth, data, api };
}
