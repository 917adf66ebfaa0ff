import { readFileSync } from 'node:fs';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadStageConfig, type StageConfig } from '../../lib/config.ts';
import { addEmbedStacks, type EmbedStacks } from '../../lib/embed-app.ts';

export const TEST_ACCOUNT = '111122223333';
export const TEST_REGION = 'eu-west-1';
/** A synth takes a few seconds alone but much longer on a loaded CI machine running other suites. */
export const SYNTH_TIMEOUT_MS = 240_000;

/** A synthesized app: its stacks, their templates, and the stage configuration it was built from. */
export interface SynthesizedApp {
  readonly app: App;
  readonly config: StageConfig;
  readonly stacks: EmbedStacks;
  readonly templates: { readonly auth: Template; readonly data: Template; readonly api: Template };
  readonly allStacks: readonly Stack[];
}

/**
 * Builds the app exactly as `lib/app.ts` does (same cdk.json context, same `addEmbedStacks`), with
 * extra context on top and Lambda bundling skipped (`aws:cdk:bundling-stacks: []`): the templates
 * are identical apart from asset hashes, and a synth takes seconds instead of a bundle per function.
 */
export function synthesizeApp(context: Record<string, unknown> = {}): SynthesizedApp {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    context: { ...cdkJson.context, ...context, 'aws:cdk:bundling-stacks': [] },
  });
  const config = loadStageConfig((key) => app.node.tryGetContext(key));
  const stacks = addEmbedStacks(app, config, { account: TEST_ACCOUNT, region: TEST_REGION });
  return {
    app,
    config,
    stacks,
    templates: {
      auth: Template.fromStack(stacks.auth),
      data: Template.fromStack(stacks.data),
      api: Template.fromStack(stacks.api),
    },
    allStacks: [stacks.auth, stacks.data, stacks.api],
  };
}

type Json = unknown;

/**
 * Rewrites CloudFormation references into short readable strings so tests can state exact policy
 * statements: `{ "Fn::GetAtt": ["TenantDataReaderRole47F2D3E2", "Arn"] }` → `"TenantDataReaderRole.Arn"`,
 * a cross-stack import of the control table ARN → `"Data:ControlTable.Arn"`, `{ Ref: X }` → `"X"`,
 * and `Fn::Join` of such parts → the joined string.
 */
export function readable(value: Json): Json {
  if (Array.isArray(value)) return value.map(readable);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, Json>;
  const keys = Object.keys(object);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const inner = object[key];
    if (key === 'Fn::GetAtt' && Array.isArray(inner)) return `${withoutHash(String(inner[0]))}.${inner[1]}`;
    if (key === 'Ref' && typeof inner === 'string') return inner.startsWith('AWS::') ? inner : withoutHash(inner);
    if (key === 'Fn::ImportValue' && typeof inner === 'string') return importName(inner);
    if (key === 'Fn::Join' && Array.isArray(inner)) {
      const [separator, parts] = inner as [string, Json[]];
      const rendered = parts.map(readable);
      if (rendered.every((part) => typeof part === 'string')) {
        return rendered.map((part) => (part === 'AWS::Partition' ? 'aws' : part)).join(separator);
      }
      return { 'Fn::Join': [separator, rendered] };
    }
  }
  return Object.fromEntries(keys.map((key) => [key, readable(object[key])]));
}

/** Logical ids end in an 8-hex-digit hash of the construct path. */
function withoutHash(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

/** `SecureEmbed-dev-Data:ExportsOutputFnGetAttControlTableF3E1E223ArnCD7F000D` → `Data:ControlTable.Arn`. */
function importName(exportName: string): string {
  const match = /^SecureEmbed-[a-z0-9-]+?-(\w+):ExportsOutput(FnGetAtt|Ref)(\w+?)[0-9A-F]{8}(Arn)?[0-9A-F]{8}$/.exec(
    exportName,
  );
  if (!match) return `import:${exportName}`;
  const [, stack, kind, name, attribute] = match;
  return kind === 'Ref' ? `${stack}:${name}` : `${stack}:${name}.${attribute ?? ''}`;
}

/** Resources of one type in a template, by logical id. */
export function resourcesOfType(
  template: Template,
  type: string,
): Record<string, { Properties: Record<string, Json> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, Json> }>;
}

/** The policy statements attached (as default policies) to a role, by the role's logical-id prefix. */
export function roleStatements(template: Template, roleIdPrefix: string): Json[] {
  const policies = resourcesOfType(template, 'AWS::IAM::Policy');
  const statements: Json[] = [];
  for (const policy of Object.values(policies)) {
    const roles = readable(policy.Properties.Roles) as string[];
    if (roles.includes(roleIdPrefix)) {
      statements.push(...((readable(policy.Properties.PolicyDocument) as { Statement: Json[] }).Statement ?? []));
    }
  }
  return statements;
}
