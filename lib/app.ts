/**
 * CDK app entry (`cdk.json` → `npx tsx lib/app.ts`). Configuration comes from context, e.g.
 * `npx cdk deploy --all -c stage=prod -c allowedOrigins=https://app.example.com`.
 */
import { App } from 'aws-cdk-lib';
import { loadStageConfig } from './config.ts';
import { addEmbedStacks } from './embed-app.ts';

const app = new App();
const config = loadStageConfig((key) => app.node.tryGetContext(key));

// Account and region come from the CLI's credentials (CDK_DEFAULT_*); the stacks use no lookups,
// so an offline synth with placeholder values produces the same templates.
addEmbedStacks(app, config, {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION,
});

app.synth();
