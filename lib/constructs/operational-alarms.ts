import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';
import {
  type EmbedFunctionName,
  IDENTITY_MISMATCH_EMITTERS,
  IDENTITY_MISMATCH_METRIC,
  SERVICE_DIMENSION,
} from '../functions.ts';

export interface OperationalAlarmsProps {
  readonly config: StageConfig;
  readonly stage: apigw.Stage;
  readonly functions: Readonly<Partial<Record<EmbedFunctionName, lambda.IFunction>>>;
}

/** Alarm thresholds, per 5-minute period. */
export const ALARM_THRESHOLDS = Object.freeze({
  api5xx: 5,
  lambdaErrors: 5,
  /** Any rotation failure leaves a tenant with a pending key: alarm on the first one. */
  rotationErrors: 1,
  lambdaThrottles: 1,
  /** A handful of mismatches is a confused user; a burst is someone replaying other viewers' tokens. */
  identityMismatch: 10,
});

const PERIOD = Duration.minutes(5);

/**
 * Alarms on the signals that need a human: API 5xx, Lambda errors and throttles, and spikes of
 * embed-token identity mismatches (tokens presented by someone they were not issued to). All of
 * them notify one SNS topic, encrypted with a customer managed key that CloudWatch may use
 * (CloudWatch cannot publish to a topic encrypted with the AWS managed `aws/sns` key).
 */
export class OperationalAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    const topicKey = new kms.Key(this, 'TopicKey', {
      description: `Encrypts the secure-embed ${config.stage} alarm topic`,
      enableKeyRotation: true,
    });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `secure-embed ${config.stage} alarms`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));

    this.add(
      'Api5xx',
      props.stage.metricServerError({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      ALARM_THRESHOLDS.api5xx,
      `API ${config.stage}: 5xx responses`,
    );

    for (const [name, fn] of Object.entries(props.functions) as Array<[EmbedFunctionName, lambda.IFunction]>) {
      const id = pascal(name);
      this.add(
        `${id}Errors`,
        fn.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        name === 'rotate-signing-key' ? ALARM_THRESHOLDS.rotationErrors : ALARM_THRESHOLDS.lambdaErrors,
        `${name} (${config.stage}): invocation errors`,
      );
      this.add(
        `${id}Throttles`,
        fn.metricThrottles({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        ALARM_THRESHOLDS.lambdaThrottles,
        `${name} (${config.stage}): throttled invocations`,
      );
    }

    // Powertools publishes with the `service` dimension set to POWERTOOLS_SERVICE_NAME (the function name).
    const mismatchMetrics: Record<string, cloudwatch.IMetric> = {};
    const fillTerms: string[] = [];
    IDENTITY_MISMATCH_EMITTERS.forEach((service, index) => {
      mismatchMetrics[`m${index}`] = new cloudwatch.Metric({
        namespace: config.metricsNamespace,
        metricName: IDENTITY_MISMATCH_METRIC,
        dimensionsMap: { [SERVICE_DIMENSION]: service },
        period: PERIOD,
        statistic: cloudwatch.Stats.SUM,
      });
      fillTerms.push(`FILL(m${index}, 0)`);
    });
    this.add(
      'IdentityMismatchSpike',
      new cloudwatch.MathExpression({
        expression: fillTerms.join(' + '),
        usingMetrics: mismatchMetrics,
        period: PERIOD,
        label: 'Identity mismatches (all services)',
      }),
      ALARM_THRESHOLDS.identityMismatch,
      `Embed token identity mismatches (${config.stage}): tokens presented by someone they were not issued to`,
    );
  }

  private add(id: string, metric: cloudwatch.IMetric, threshold: number, description: string): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No traffic is not an incident.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
