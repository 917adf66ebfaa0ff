import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';
import type { PublicRoute } from '../routes.ts';
import { baseAccessLogFields } from './embed-rest-api.ts';

export interface ViewerRestApiProps {
  readonly config: StageConfig;
  /** `VIEWER_ROUTES`: every route becomes one public GET method, nothing else is created. */
  readonly routes: readonly PublicRoute[];
  /** The `viewer` function. */
  readonly handler: lambda.IFunction;
}

/** Why the viewer's methods carry no authorizer (cdk-nag APIG4 / COG4), in one place. */
const PUBLIC_VIEWER_REASON =
  'The public viewer API serves only the embed page shell and the static viewer bundle, which carry no data: ' +
  'an iframe navigation cannot send an Authorization header. Every data call of the viewer goes to the ' +
  'Cognito-authorized API with identity-bound embed tokens and sessions.';

/** `https://<api id>.execute-api.<region>.<suffix>`: the origin browsers see for a REST API's default endpoint. */
export function restApiOrigin(api: apigw.IRestApi): string {
  const stack = Stack.of(api);
  return `https://${api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
}

/**
 * The stage's base URL (no trailing slash) from the API id and the stage NAME. Unlike
 * `RestApi.url` it references no stage or deployment, so functions behind one API can be told the
 * URL of the other without a dependency cycle.
 */
export function restApiStageUrl(api: apigw.IRestApi, stageName: string): string {
  return `${restApiOrigin(api)}/${stageName}`;
}

/**
 * The public viewer surface, separate from the authorized API so that one keeps "a Cognito
 * authorizer on every method": a regional REST API whose only methods are the GET routes of
 * `VIEWER_ROUTES`, explicitly `AuthorizationType.NONE`, Lambda proxy to the `viewer` function,
 * with throttling, tracing, error logging and JSON access logs. No CORS: the page and its bundle
 * are loaded by navigation and same-origin tags, never by cross-origin fetches.
 */
export class ViewerRestApi extends Construct {
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /** `"GET <path>"` → method. */
  readonly methods: ReadonlyMap<string, apigw.Method>;
  /** Base URL of the stage, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/dev`. */
  readonly stageUrl: string;
  /** The origin the viewer page runs on (what the API's CORS allowlist must contain). */
  readonly origin: string;

  constructor(scope: Construct, id: string, props: ViewerRestApiProps) {
    super(scope, id);
    const { config } = props;
    const removalPolicy = config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: config.logRetention, removalPolicy });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `secure-embed-viewer-${config.stage}`,
      description: `Secure embed public viewer: embed page and viewer bundle, no data (${config.stage})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // The account-level logging role is owned by the main API (one per account and region).
      cloudWatchRole: false,
      deployOptions: {
        stageName: config.stage,
        throttlingRateLimit: config.throttling.rateLimit,
        throttlingBurstLimit: config.throttling.burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: viewerAccessLogFormat(),
      },
    });
    this.stageUrl = restApiStageUrl(this.api, config.stage);
    this.origin = restApiOrigin(this.api);

    // GET methods have no body model, so body validation is a no-op; the path parameters are required.
    const validator = this.api.addRequestValidator('RequestValidator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new apigw.LambdaIntegration(props.handler, { proxy: true, allowTestInvoke: false });

    const methods = new Map<string, apigw.Method>();
    for (const route of props.routes) {
      const key = `${route.method} ${route.path}`;
      if (methods.has(key)) throw new Error(`Duplicate viewer route ${key}`);
      const method = this.api.root.resourceForPath(route.path).addMethod(route.method, integration, {
        authorizationType: apigw.AuthorizationType.NONE,
        requestValidator: validator,
        requestParameters: Object.fromEntries(
          [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => [`method.request.path.${match[1]}`, true]),
        ),
      });
      Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason: PUBLIC_VIEWER_REASON });
      Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason: PUBLIC_VIEWER_REASON });
      methods.set(key, method);
    }
    this.methods = methods;
  }
}

/** Access log in JSON: what, outcome and latency. No query strings, no headers beyond the user agent. */
function viewerAccessLogFormat(): apigw.AccessLogFormat {
  return apigw.AccessLogFormat.custom(JSON.stringify(baseAccessLogFields()));
}
