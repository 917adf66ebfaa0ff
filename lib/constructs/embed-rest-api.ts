import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';
import type { ApiFunctionName, HttpMethod, Route } from '../routes.ts';

export interface EmbedRestApiProps {
  readonly config: StageConfig;
  readonly routes: readonly Route[];
  readonly userPool: cognito.IUserPool;
  /** The Lambda serving each function name of the route table. */
  readonly functions: Readonly<Record<ApiFunctionName, lambda.IFunction>>;
  /**
   * Origins the CORS preflights allow; default `config.allowedOrigins`. The stack adds the viewer's
   * origin (the viewer page calls this API from there); the first entry must be a literal origin.
   */
  readonly corsOrigins?: readonly string[];
}

/** Methods whose body API Gateway validates before invoking a Lambda. */
const BODY_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH']);

/** Headers a browser may send cross-origin; the token travels in `Authorization`, never in a cookie. */
export const CORS_ALLOW_HEADERS = Object.freeze(['Authorization', 'Content-Type']);

/**
 * Routes whose body is not a JSON object (an import accepts CSV or a JSON array of rows): they
 * keep the validator (parameters) but get no body model; the handler validates the rows.
 */
function acceptsNonObjectBody(route: Route): boolean {
  return route.path.endsWith('/imports');
}

/**
 * The REST API, built only from the route table: every route becomes one method with the
 * Cognito authorizer, request validation and a Lambda proxy integration to the function the route
 * names. CORS preflight methods (mock integration, no backend, no data) are added only on
 * resources that have routes, allowing only the configured origins and those resources' methods.
 */
export class EmbedRestApi extends Construct {
  readonly api: apigw.RestApi;
  readonly authorizer: apigw.CognitoUserPoolsAuthorizer;
  readonly accessLogGroup: logs.LogGroup;
  /** `"<METHOD> <path>"` → method, for tests and for wiring per-route options later. */
  readonly methods: ReadonlyMap<string, apigw.Method>;

  constructor(scope: Construct, id: string, props: EmbedRestApiProps) {
    super(scope, id);
    const { config } = props;
    const removalPolicy = config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: config.logRetention, removalPolicy });

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `secure-embed-${config.stage}`,
      description: `Secure embed API (${config.stage})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Execution logs (errors only) need the account-level API Gateway → CloudWatch Logs role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: config.stage,
        throttlingRateLimit: config.throttling.rateLimit,
        throttlingBurstLimit: config.throttling.burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Never log bodies: they carry embed tokens and query parameters.
        dataTraceEnabled: false,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: accessLogFormat(),
      },
    });

    this.authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'CognitoAuthorizer', {
      authorizerName: `cognito-${config.stage}`,
      cognitoUserPools: [props.userPool],
      identitySource: apigw.IdentitySource.header('Authorization'),
      // Bounded by the ID token's own 15-minute life; spares a Cognito key lookup per request.
      resultsCacheTtl: Duration.minutes(5),
    });

    const bodyValidator = this.api.addRequestValidator('BodyAndParametersValidator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const parametersValidator = this.api.addRequestValidator('ParametersValidator', {
      requestValidatorName: 'parameters',
      validateRequestBody: false,
      validateRequestParameters: true,
    });
    const jsonObjectModel = this.api.addModel('JsonObjectModel', {
      modelName: 'JsonObject',
      contentType: 'application/json',
      description: 'Any JSON object; the handler validates the fields',
      schema: { schema: apigw.JsonSchemaVersion.DRAFT4, title: 'JsonObject', type: apigw.JsonSchemaType.OBJECT },
    });

    const integrations = new Map<ApiFunctionName, apigw.LambdaIntegration>();
    const integrationFor = (name: ApiFunctionName): apigw.LambdaIntegration => {
      let integration = integrations.get(name);
      if (!integration) {
        // Test-invoke permissions would double the Lambda resource policy for no production use.
        integration = new apigw.LambdaIntegration(props.functions[name], { proxy: true, allowTestInvoke: false });
        integrations.set(name, integration);
      }
      return integration;
    };

    const methods = new Map<string, apigw.Method>();
    const methodsByResource = new Map<apigw.IResource, HttpMethod[]>();
    for (const route of props.routes) {
      const key = `${route.method} ${route.path}`;
      if (methods.has(key)) throw new Error(`Duplicate route ${key}`);
      const resource = this.api.root.resourceForPath(route.path);
      const hasBody = BODY_METHODS.has(route.method);
      const method = resource.addMethod(route.method, integrationFor(route.function), {
        authorizationType: apigw.AuthorizationType.COGNITO,
        authorizer: this.authorizer,
        requestValidator: hasBody ? bodyValidator : parametersValidator,
        requestParameters: requestParametersFor(route),
        ...(hasBody && !acceptsNonObjectBody(route) ? { requestModels: { 'application/json': jsonObjectModel } } : {}),
      });
      methods.set(key, method);
      methodsByResource.set(resource, [...(methodsByResource.get(resource) ?? []), route.method]);
    }
    this.methods = methods;

    for (const [resource, resourceMethods] of methodsByResource) {
      resource.addCorsPreflight({
        allowOrigins: [...(props.corsOrigins ?? config.allowedOrigins)],
        allowMethods: [...resourceMethods, 'OPTIONS'],
        allowHeaders: [...CORS_ALLOW_HEADERS],
        maxAge: Duration.hours(1),
        statusCode: 204,
      });
    }

    addErrorResponses(this.api);

    // The managed policy is the documented, API-Gateway-maintained permission set for the
    // account-level logging role; it only allows writing to CloudWatch Logs.
    Validations.of(this.api.node.findChild('CloudWatchRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'Account-level API Gateway logging role: AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy ' +
        'API Gateway documents for execution logging; it grants CloudWatch Logs writes only.',
    });
  }
}

/** Path parameters are required; so is the Authorization header (rejected before the authorizer otherwise). */
function requestParametersFor(route: Route): Record<string, boolean> {
  const parameters: Record<string, boolean> = { 'method.request.header.Authorization': true };
  for (const match of route.path.matchAll(/\{([^}]+)\}/g)) {
    parameters[`method.request.path.${match[1]}`] = true;
  }
  return parameters;
}

/** The access-log fields both APIs share: what, outcome and latency. No bodies, headers or query strings. */
export function baseAccessLogFields(): Record<string, string> {
  const f = apigw.AccessLogField;
  return {
    requestId: f.contextRequestId(),
    extendedRequestId: f.contextExtendedRequestId(),
    requestTime: f.contextRequestTime(),
    ip: f.contextIdentitySourceIp(),
    userAgent: f.contextIdentityUserAgent(),
    httpMethod: f.contextHttpMethod(),
    resourcePath: f.contextResourcePath(),
    status: f.contextStatus(),
    protocol: f.contextProtocol(),
    responseLength: f.contextResponseLength(),
    responseLatency: f.contextResponseLatency(),
    integrationLatency: f.contextIntegrationLatency(),
    integrationStatus: f.contextIntegrationStatus(),
    errorMessage: f.contextErrorMessage(),
    wafStatus: f.contextWafResponseCode(),
    xrayTraceId: f.contextXrayTraceId(),
  };
}

/**
 * Access log in JSON: who (Cognito `sub`, tenant), what, outcome and latency. No bodies, no
 * Authorization header, no query strings.
 */
function accessLogFormat(): apigw.AccessLogFormat {
  const f = apigw.AccessLogField;
  return apigw.AccessLogFormat.custom(
    JSON.stringify({
      ...baseAccessLogFields(),
      authorizerError: f.contextAuthorizerError(),
      sub: f.contextAuthorizerClaims('sub'),
      tenantId: f.contextAuthorizerClaims('custom:tenant_id'),
    }),
  );
}

/**
 * Errors produced by API Gateway itself (authorizer, validator, throttling, WAF) get the same
 * `{ code, message, requestId }` body as the handlers' errors, so clients parse one shape and
 * support can find the request by the id. Every other answer API Gateway makes itself (an unknown
 * route's "Missing Authentication Token", a body over 10 MB…) keeps its own status and message
 * and gets the request id too.
 */
function addErrorResponses(api: apigw.RestApi): void {
  const requestId = '$context.requestId';
  const responses: ReadonlyArray<[string, apigw.ResponseType, string | undefined, string, string]> = [
    ['Unauthorized', apigw.ResponseType.UNAUTHORIZED, '401', 'UNAUTHENTICATED', 'Authentication is required.'],
    ['AccessDenied', apigw.ResponseType.ACCESS_DENIED, '403', 'FORBIDDEN', 'You are not allowed to do this.'],
    ['WafFiltered', apigw.ResponseType.WAF_FILTERED, '403', 'FORBIDDEN', 'The request was blocked.'],
    [
      'BadRequestBody',
      apigw.ResponseType.BAD_REQUEST_BODY,
      '400',
      'VALIDATION_FAILED',
      'Invalid request: the body must be a JSON object.',
    ],
    [
      'BadRequestParameters',
      apigw.ResponseType.BAD_REQUEST_PARAMETERS,
      '400',
      'VALIDATION_FAILED',
      'Invalid request: a required parameter or header is missing.',
    ],
    ['Throttled', apigw.ResponseType.THROTTLED, '429', 'RATE_LIMITED', 'Too many requests.'],
    // Keeps API Gateway's own 5xx status (502, 504…); only the body is normalised.
    ['Default5xx', apigw.ResponseType.DEFAULT_5XX, undefined, 'INTERNAL_ERROR', 'An internal error occurred.'],
  ];
  for (const [id, type, statusCode, code, message] of responses) {
    api.addGatewayResponse(id, {
      type,
      ...(statusCode === undefined ? {} : { statusCode }),
      templates: { 'application/json': JSON.stringify({ code, message, requestId }) },
    });
  }
  api.addGatewayResponse('Default4xx', {
    type: apigw.ResponseType.DEFAULT_4XX,
    // messageString is the message already quoted as a JSON string.
    templates: { 'application/json': `{"message":$context.error.messageString,"requestId":"${requestId}"}` },
  });
}
