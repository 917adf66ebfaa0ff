import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SynthesizedApp, synthesizeApp, SYNTH_TIMEOUT_MS } from './synth.ts';

/**
 * cdk-nag (AWS Solutions) over the whole app, for a dev and a prod stage: zero unacknowledged
 * findings, and every acknowledgement is one we reviewed, narrowly scoped, with a specific reason.
 */
let dev: SynthesizedApp;
let prod: SynthesizedApp;
beforeAll(() => {
  dev = synthesizeApp();
  prod = synthesizeApp({
    stage: 'prod',
    allowedOrigins: 'https://app.example.com',
    viewerBaseUrl: 'https://embed.example.com',
  });
}, SYNTH_TIMEOUT_MS);

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  const visit = (construct: IConstruct) => {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
    construct.node.children.forEach(visit);
  };
  visit(root);
  return found;
}

const SECRET_PREFIX = (stage: string) =>
  `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:eu-west-1:111122223333:secret:embed/signing-keys/${stage}/*]`;
const XRAY = 'AwsSolutions-IAM5[Resource::*]';

describe('cdk-nag AwsSolutions', () => {
  it.each(['dev', 'prod'])('%s: no unacknowledged findings', (stage) => {
    // Act
    const report = new AwsSolutionsChecks().validateScope((stage === 'dev' ? dev : prod).app);

    // Assess
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual(
      [],
    );
    expect(report.success).toBe(true);
  });

  it.each(['dev', 'prod'])('%s: no error or warning annotations on any stack', (stage) => {
    for (const stack of (stage === 'dev' ? dev : prod).allStacks) {
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError('*', Match.anyValue()), stack.stackName).toEqual([]);
      expect(annotations.findWarning('*', Match.anyValue()), stack.stackName).toEqual([]);
    }
  });

  it('dev acknowledges exactly the reviewed findings, each on the narrowest construct', () => {
    expect(
      acknowledgements(dev.app)
        .map(({ path, id }) => `${path} ${id}`)
        .sort(),
    ).toEqual(
      [
        'SecureEmbed-dev-Auth/UserPool AwsSolutions-COG2',
        // Threat protection is on in prod (Plus plan); see the prod list below.
        'SecureEmbed-dev-Auth/UserPool AwsSolutions-COG8',
        `SecureEmbed-dev-Data/RotateSigningKeyFunctionRole ${XRAY}`,
        `SecureEmbed-dev-Data/RotateSigningKeyFunctionRole ${SECRET_PREFIX('dev')}`,
        `SecureEmbed-dev-Api/EmbedTokensFunctionRole ${XRAY}`,
        `SecureEmbed-dev-Api/EmbedTokensFunctionRole ${SECRET_PREFIX('dev')}`,
        `SecureEmbed-dev-Api/EmbedSessionsFunctionRole ${XRAY}`,
        `SecureEmbed-dev-Api/EmbedQueryFunctionRole ${XRAY}`,
        `SecureEmbed-dev-Api/AdminFunctionRole ${XRAY}`,
        `SecureEmbed-dev-Api/AdminFunctionRole ${SECRET_PREFIX('dev')}`,
        'SecureEmbed-dev-Api/Api/Api/CloudWatchRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        `SecureEmbed-dev-Api/ViewerFunctionRole ${XRAY}`,
        // The public viewer: page shell and static bundle, no data; on each of its two methods only.
        ...['embed/{tenantId}/{embedId}', 'assets/viewer/{file}'].flatMap((path) =>
          ['AwsSolutions-APIG4', 'AwsSolutions-COG4'].map(
            (id) => `SecureEmbed-dev-Api/Viewer/Api/Default/${path}/GET ${id}`,
          ),
        ),
      ].sort(),
    );
  });

  it('prod needs no threat-protection acknowledgement', () => {
    const ids = acknowledgements(prod.app).map(({ path, id }) => `${path} ${id}`);
    expect(ids).not.toContain('SecureEmbed-prod-Auth/UserPool AwsSolutions-COG8');
    expect(ids).toContain('SecureEmbed-prod-Auth/UserPool AwsSolutions-COG2');
  });

  it('every acknowledgement names one finding (rule[finding] for IAM rules) and gives a specific reason', () => {
    for (const { path, id, reason } of [...acknowledgements(dev.app), ...acknowledgements(prod.app)]) {
      expect(id, path).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      if (/^AwsSolutions-IAM[45]/.test(id)) expect(id, path).toMatch(/\[(Resource|Policy|Action)::.+\]$/);
      expect(reason.length, `${path} ${id}`).toBeGreaterThanOrEqual(80);
      expect(reason, `${path} ${id}`).not.toMatch(/^(n\/a|todo|ok|suppress)/i);
    }
  });
});
