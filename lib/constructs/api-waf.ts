import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';

export interface ApiWafProps {
  readonly config: StageConfig;
  readonly stage: apigw.Stage;
}

/** Largest body accepted on the viewer-facing embed routes (tokens, sessions, query): all are small JSON. */
export const EMBED_BODY_LIMIT_BYTES = 8 * 1024;

/** Rule names of the web ACL, in evaluation order. */
export const WAF_RULES = Object.freeze({
  rateLimit: 'RateLimitPerIp',
  knownBadInputs: 'AWSManagedRulesKnownBadInputsRuleSet',
  common: 'AWSManagedRulesCommonRuleSet',
  embedBodySize: 'EmbedRoutesBodySizeLimit',
});

/**
 * The regional WAFv2 web ACL in front of the API stage (and, through `associate`, the viewer stage): a per-IP rate limit, AWS's known-bad-
 * inputs and common rule sets, and a body-size limit on the embed routes. Requests are logged to
 * CloudWatch Logs with the Authorization header redacted (it carries the caller's ID token).
 */
export class ApiWaf extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiWafProps) {
    super(scope, id);
    const { config } = props;
    const metricPrefix = `secure-embed-${config.stage}`;
    const visibility = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName: `${metricPrefix}-${name}`,
      sampledRequestsEnabled: true,
    });
    const noTransform = [{ priority: 0, type: 'NONE' }];

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `secure-embed-api-${config.stage}`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('web-acl'),
      customResponseBodies: {
        rateLimited: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({ code: 'RATE_LIMITED', message: 'Too many requests.' }),
        },
      },
      rules: [
        {
          // First: the cheapest rule sheds floods before the managed groups inspect them.
          name: WAF_RULES.rateLimit,
          priority: 0,
          action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: 'rateLimited' } } },
          statement: {
            rateBasedStatement: { limit: config.wafRateLimitPer5Min, aggregateKeyType: 'IP', evaluationWindowSec: 300 },
          },
          visibilityConfig: visibility(WAF_RULES.rateLimit),
        },
        {
          name: WAF_RULES.knownBadInputs,
          priority: 1,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: WAF_RULES.knownBadInputs } },
          visibilityConfig: visibility(WAF_RULES.knownBadInputs),
        },
        {
          name: WAF_RULES.common,
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: WAF_RULES.common,
              // Admin routes legitimately carry large bodies (dashboards, CSV/JSON imports); the
              // size limit is enforced below where bodies are known to be small.
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: visibility(WAF_RULES.common),
        },
        {
          name: WAF_RULES.embedBodySize,
          priority: 3,
          action: { block: {} },
          statement: {
            andStatement: {
              statements: [
                {
                  // Matches /v1/embed-tokens and /v1/embed/… (after the stage prefix).
                  byteMatchStatement: {
                    fieldToMatch: { uriPath: {} },
                    positionalConstraint: 'CONTAINS',
                    searchString: '/v1/embed',
                    textTransformations: noTransform,
                  },
                },
                {
                  sizeConstraintStatement: {
                    fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
                    comparisonOperator: 'GT',
                    size: EMBED_BODY_LIMIT_BYTES,
                    textTransformations: noTransform,
                  },
                },
              ],
            },
          },
          visibilityConfig: visibility(WAF_RULES.embedBodySize),
        },
      ],
    });

    this.associate('StageAssociation', props.stage);

    // WAF requires the `aws-waf-logs-` name prefix for a CloudWatch Logs destination.
    const logGroupName = `aws-waf-logs-secure-embed-${config.stage}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      retention: config.logRetention,
      removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // The destination ARN must not carry the `:*` suffix that `logGroupArn` has.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    });
    logging.node.addDependency(this.logGroup);
  }

  /** Puts this web ACL in front of another stage as well (the public viewer API). */
  associate(id: string, stage: apigw.Stage): wafv2.CfnWebACLAssociation {
    return new wafv2.CfnWebACLAssociation(this, id, { resourceArn: stage.stageArn, webAclArn: this.webAcl.attrArn });
  }
}
