import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, VIEWER_ROUTES } from '../../lib/routes.ts';
import { GATEWAY_RESPONSES } from '../../local/gateway.ts';
import { readable, resourcesOfType, type SynthesizedApp, synthesizeApp, SYNTH_TIMEOUT_MS } from './synth.ts';

type Props = Record<string, unknown>;

let synth: SynthesizedApp;
type ApiMethod = { key: string; method: string; path: string; properties: Props };
/** Every method of the authorized API with its full resource path, e.g. `POST /v1/embed/sessions/{sessionId}/renew`. */
let methods: ApiMethod[];
/** Every method of the public viewer API. */
let viewerMethods: ApiMethod[];
/** Full paths of the viewer API's resources. */
let viewerResourcePaths: string[];

const withoutHash = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

beforeAll(() => {
  synth = synthesizeApp({ allowedOrigins: ['https://app.example.com', 'https://other.example.com'] });
  const api = synth.templates.api;
  const resources = resourcesOfType(api, 'AWS::ApiGateway::Resource');
  const restApiIds = Object.keys(resourcesOfType(api, 'AWS::ApiGateway::RestApi'));
  expect(restApiIds.map(withoutHash).sort()).toEqual(['Api', 'ViewerApi']);
  const pathOf = (ref: unknown): string => {
    const { Ref, 'Fn::GetAtt': getAtt } = ref as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (getAtt && restApiIds.includes(getAtt[0])) return '';
    const resource = resources[Ref as string];
    if (!resource) throw new Error(`unknown resource ${JSON.stringify(ref)}`);
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart as string}`;
  };
  const all = Object.values(resourcesOfType(api, 'AWS::ApiGateway::Method')).map(({ Properties }) => {
    const path = pathOf(Properties.ResourceId) || '/';
    const method = Properties.HttpMethod as string;
    const apiId = withoutHash((Properties.RestApiId as { Ref: string }).Ref);
    return { apiId, key: `${method} ${path}`, method, path, properties: Properties };
  });
  methods = all.filter((m) => m.apiId === 'Api');
  viewerMethods = all.filter((m) => m.apiId === 'ViewerApi');
  expect(methods.length + viewerMethods.length).toBe(all.length);
  viewerResourcePaths = Object.values(resources)
    .filter((r) => withoutHash((r.Properties.RestApiId as { Ref: string }).Ref) === 'ViewerApi')
    .map((r) => pathOf({ Ref: Object.keys(resources).find((id) => resources[id] === r) }));
}, SYNTH_TIMEOUT_MS);

const routeMethods = () => methods.filter((m) => m.method !== 'OPTIONS');
const onlyLogicalId = (ref: unknown) => (ref as { Ref: string }).Ref;

describe('routes', () => {
  it('creates exactly one method per route of the route table, and no other non-OPTIONS method', () => {
    expect(
      routeMethods()
        .map((m) => m.key)
        .sort(),
    ).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
  });

  it('integrates each route with the Lambda the route names, as a Lambda proxy integration', () => {
    const functionIds: Record<string, string> = {
      'embed-tokens': 'EmbedTokensFunction',
      'embed-sessions': 'EmbedSessionsFunction',
      'embed-query': 'EmbedQueryFunction',
      admin: 'AdminFunction',
    };
    for (const route of ROUTES) {
      const method = methods.find((m) => m.key === `${route.method} ${route.path}`);
      const integration = readable(method?.properties.Integration) as {
        Type: string;
        IntegrationHttpMethod: string;
        Uri: string;
      };
      expect(integration.Type, route.path).toBe('AWS_PROXY');
      expect(integration.IntegrationHttpMethod).toBe('POST');
      expect(integration.Uri).toBe(
        `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${functionIds[route.function]}.Arn/invocations`,
      );
    }
  });
});

describe('authorization', () => {
  it('every non-OPTIONS method uses the Cognito user pool authorizer', () => {
    const authorizers = resourcesOfType(synth.templates.api, 'AWS::ApiGateway::Authorizer');
    const [authorizerId] = Object.keys(authorizers);
    expect(Object.keys(authorizers)).toHaveLength(1);
    expect(readable(authorizers[authorizerId as string]?.Properties)).toMatchObject({
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: ['Auth:UserPool.Arn'],
    });
    for (const method of routeMethods()) {
      expect(method.properties.AuthorizationType, method.key).toBe('COGNITO_USER_POOLS');
      expect(onlyLogicalId(method.properties.AuthorizerId), method.key).toBe(authorizerId);
    }
  });

  it('OPTIONS methods are CORS preflights only: no auth, mock integration, no backend and no data', () => {
    const preflights = methods.filter((m) => m.method === 'OPTIONS');
    expect(preflights.map((m) => m.path).sort()).toEqual([...new Set(ROUTES.map((r) => r.path))].sort());
    for (const preflight of preflights) {
      const integration = preflight.properties.Integration as Props;
      expect(preflight.properties.AuthorizationType).toBe('NONE');
      expect(integration.Type).toBe('MOCK');
      expect(integration.Uri).toBeUndefined();
      expect(integration.RequestTemplates).toEqual({ 'application/json': '{ statusCode: 200 }' });
    }
  });

  it('CORS allows only the configured origins and only the resource methods', () => {
    const preflight = methods.find((m) => m.key === 'OPTIONS /v1/embed/sessions');
    if (!preflight) throw new Error('no preflight on /v1/embed/sessions');
    const [response] = (preflight.properties.Integration as { IntegrationResponses: Props[] }).IntegrationResponses;
    expect(response?.ResponseParameters).toEqual({
      'method.response.header.Access-Control-Allow-Headers': "'Authorization,Content-Type'",
      'method.response.header.Access-Control-Allow-Origin': "'https://app.example.com'",
      'method.response.header.Vary': "'Origin'",
      'method.response.header.Access-Control-Allow-Methods': "'POST,OPTIONS'",
      'method.response.header.Access-Control-Max-Age': "'3600'",
    });
    // The other origins are echoed back only when they are the request's Origin: the second host
    // app, and the viewer's own origin (the viewer page calls the API from there).
    const template = readable(response?.ResponseTemplates) as Record<string, string>;
    expect(template['application/json']).toContain('$origin == "https://other.example.com"');
    expect(template['application/json']).toContain(
      '$origin == "https://ViewerApi.execute-api.eu-west-1.AWS::URLSuffix"',
    );
  });
});

describe('request validation', () => {
  it('POST/PUT/PATCH validate body and parameters; GET validates parameters; path parameters and Authorization are required', () => {
    const validators = resourcesOfType(synth.templates.api, 'AWS::ApiGateway::RequestValidator');
    const validatorOf = (ref: unknown) => validators[onlyLogicalId(ref)]?.Properties;
    for (const method of routeMethods()) {
      const validator = validatorOf(method.properties.RequestValidatorId);
      const withBody = ['POST', 'PUT', 'PATCH'].includes(method.method);
      expect(validator, method.key).toMatchObject({ ValidateRequestBody: withBody, ValidateRequestParameters: true });
      const expected: Record<string, boolean> = { 'method.request.header.Authorization': true };
      for (const [, name] of method.path.matchAll(/\{([^}]+)\}/g)) expected[`method.request.path.${name}`] = true;
      expect(method.properties.RequestParameters, method.key).toEqual(expected);
    }
  });

  it('JSON bodies must be objects, except imports (CSV or a JSON array of rows)', () => {
    for (const method of routeMethods().filter((m) => ['POST', 'PUT', 'PATCH'].includes(m.method))) {
      const models = method.properties.RequestModels as Record<string, unknown> | undefined;
      if (method.path.endsWith('/imports')) expect(models, method.key).toBeUndefined();
      else expect(Object.keys(models ?? {}), method.key).toEqual(['application/json']);
    }
    synth.templates.api.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: { $schema: 'http://json-schema.org/draft-04/schema#', title: 'JsonObject', type: 'object' },
    });
  });
});

/** The stage of one REST API (`Api` or `ViewerApi`). */
function stageOf(apiId: string) {
  const stage = Object.values(resourcesOfType(synth.templates.api, 'AWS::ApiGateway::Stage')).find(
    (candidate) => withoutHash((candidate.Properties.RestApiId as { Ref: string }).Ref) === apiId,
  );
  if (!stage) throw new Error(`no stage of ${apiId}`);
  return stage;
}

/** Both stages: stage-wide throttling, metrics, error logs without request/response bodies. */
function expectedMethodSettings() {
  return [
    {
      HttpMethod: '*',
      ResourcePath: '/*',
      DataTraceEnabled: false,
      LoggingLevel: 'ERROR',
      MetricsEnabled: true,
      ThrottlingBurstLimit: synth.config.throttling.burstLimit,
      ThrottlingRateLimit: synth.config.throttling.rateLimit,
    },
  ];
}

describe('stage', () => {
  it('throttles, traces, logs errors without bodies and writes JSON access logs to a log group with retention', () => {
    const stage = stageOf('Api');
    const properties = readable(stage?.Properties) as Props & {
      AccessLogSetting: { DestinationArn: string; Format: string };
    };
    expect(properties.StageName).toBe('dev');
    expect(properties.TracingEnabled).toBe(true);
    expect(properties.MethodSettings).toEqual(expectedMethodSettings());
    expect(properties.AccessLogSetting.DestinationArn).toBe('ApiAccessLogs.Arn');
    const format = JSON.parse(properties.AccessLogSetting.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      sub: '$context.authorizer.claims.sub',
    });
    expect(JSON.stringify(format)).not.toMatch(/Authorization|requestBody|\$input/i);
    const logGroups = resourcesOfType(synth.templates.api, 'AWS::Logs::LogGroup');
    const accessLogs = Object.entries(logGroups).find(([id]) => id.startsWith('ApiAccessLogs'));
    expect(accessLogs?.[1].Properties.RetentionInDays).toBe(30);
  });

  it("API Gateway's own errors use the handlers error shape and carry the request id", () => {
    // Prepare
    const body = (code: string, message: string) => JSON.stringify({ code, message, requestId: '$context.requestId' });

    // Act
    const responses = Object.values(resourcesOfType(synth.templates.api, 'AWS::ApiGateway::GatewayResponse'));
    const byType = Object.fromEntries(
      responses.map(({ Properties }) => [
        Properties.ResponseType,
        [Properties.StatusCode, (Properties.ResponseTemplates as Record<string, string>)['application/json']],
      ]),
    );

    // Assess
    expect(responses).toHaveLength(8);
    expect(byType).toEqual({
      UNAUTHORIZED: ['401', body('UNAUTHENTICATED', 'Authentication is required.')],
      ACCESS_DENIED: ['403', body('FORBIDDEN', 'You are not allowed to do this.')],
      WAF_FILTERED: ['403', body('FORBIDDEN', 'The request was blocked.')],
      BAD_REQUEST_BODY: ['400', body('VALIDATION_FAILED', 'Invalid request: the body must be a JSON object.')],
      BAD_REQUEST_PARAMETERS: [
        '400',
        body('VALIDATION_FAILED', 'Invalid request: a required parameter or header is missing.'),
      ],
      THROTTLED: ['429', body('RATE_LIMITED', 'Too many requests.')],
      DEFAULT_5XX: [undefined, body('INTERNAL_ERROR', 'An internal error occurred.')],
      DEFAULT_4XX: [undefined, '{"message":$context.error.messageString,"requestId":"$context.requestId"}'],
    });
  });

  it('the local gateway answers with the same bodies as these gateway responses', () => {
    const template = (type: string) => {
      const response = Object.values(resourcesOfType(synth.templates.api, 'AWS::ApiGateway::GatewayResponse')).find(
        ({ Properties }) => Properties.ResponseType === type,
      );
      if (!response) throw new Error(`no ${type} gateway response`);
      return JSON.parse(
        (response.Properties.ResponseTemplates as Record<string, string>)['application/json'] as string,
      );
    };
    const withRequestId = (body: object) => ({ ...body, requestId: '$context.requestId' });
    expect(template('UNAUTHORIZED')).toEqual(withRequestId(GATEWAY_RESPONSES.unauthorized));
    expect(template('BAD_REQUEST_BODY')).toEqual(withRequestId(GATEWAY_RESPONSES.badRequestBody));
    expect(template('DEFAULT_5XX')).toEqual(withRequestId(GATEWAY_RESPONSES.default5xx));
  });
});

describe('WAF', () => {
  it('a regional web ACL with the rate limit and the AWS managed rule groups is associated with the stage', () => {
    const [acl] = Object.values(resourcesOfType(synth.templates.api, 'AWS::WAFv2::WebACL'));
    if (!acl) throw new Error('no web ACL');
    const rules = (acl.Properties.Rules as Array<{ Name: string; Priority: number; Statement: Props }>).map((r) => ({
      name: r.Name,
      priority: r.Priority,
      kind: Object.keys(r.Statement)[0],
    }));
    expect(acl.Properties.Scope).toBe('REGIONAL');
    expect(acl.Properties.DefaultAction).toEqual({ Allow: {} });
    expect(rules).toEqual([
      { name: 'RateLimitPerIp', priority: 0, kind: 'RateBasedStatement' },
      { name: 'AWSManagedRulesKnownBadInputsRuleSet', priority: 1, kind: 'ManagedRuleGroupStatement' },
      { name: 'AWSManagedRulesCommonRuleSet', priority: 2, kind: 'ManagedRuleGroupStatement' },
      { name: 'EmbedRoutesBodySizeLimit', priority: 3, kind: 'AndStatement' },
    ]);
    const associations = Object.values(resourcesOfType(synth.templates.api, 'AWS::WAFv2::WebACLAssociation'));
    expect(associations.map((association) => readable(association.Properties))).toEqual([
      // `<RestApi ref>` / `<Stage ref>`, rendered without logical-id hashes.
      {
        ResourceArn: 'arn:aws:apigateway:eu-west-1::/restapis/Api/stages/ApiDeploymentStagedev',
        WebACLArn: 'WafWebAcl.Arn',
      },
      // The same web ACL (rate limit, managed rules) in front of the public viewer stage.
      {
        ResourceArn: 'arn:aws:apigateway:eu-west-1::/restapis/ViewerApi/stages/ViewerApiDeploymentStagedev',
        WebACLArn: 'WafWebAcl.Arn',
      },
    ]);
  });

  it('logs to an aws-waf-logs- group with retention and redacts the Authorization header', () => {
    synth.templates.api.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }],
    });
    synth.templates.api.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: 'aws-waf-logs-secure-embed-dev',
      RetentionInDays: 30,
    });
  });
});

describe('public viewer API', () => {
  it('has exactly the GET routes of VIEWER_ROUTES: no other method, no preflight, no other resource', () => {
    expect(viewerMethods.map((m) => m.key).sort()).toEqual(
      ['GET /embed/{tenantId}/{embedId}', 'GET /assets/viewer/{file}'].sort(),
    );
    expect(VIEWER_ROUTES.map((route) => `${route.method} ${route.path}`).sort()).toEqual(
      viewerMethods.map((m) => m.key).sort(),
    );
    expect(viewerResourcePaths.sort()).toEqual(
      [
        '/assets',
        '/assets/viewer',
        '/assets/viewer/{file}',
        '/embed',
        '/embed/{tenantId}',
        '/embed/{tenantId}/{embedId}',
      ].sort(),
    );
  });

  it('its methods are explicitly public (no authorizer), require their path parameters and proxy to the viewer function', () => {
    for (const method of viewerMethods) {
      expect(method.properties.AuthorizationType, method.key).toBe('NONE');
      expect(method.properties.AuthorizerId, method.key).toBeUndefined();
      expect(method.properties.ApiKeyRequired, method.key).toBeUndefined();
      const expected: Record<string, boolean> = {};
      for (const [, name] of method.path.matchAll(/\{([^}]+)\}/g)) expected[`method.request.path.${name}`] = true;
      expect(method.properties.RequestParameters, method.key).toEqual(expected);
      const integration = readable(method.properties.Integration) as { Type: string; Uri: string };
      expect(integration.Type, method.key).toBe('AWS_PROXY');
      expect(integration.Uri).toBe(
        'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/ViewerFunction.Arn/invocations',
      );
    }
  });

  it('the viewer function is invoked only by the viewer API', () => {
    const permissions = Object.values(resourcesOfType(synth.templates.api, 'AWS::Lambda::Permission'))
      .map((permission) => readable(permission.Properties) as Props)
      .filter((permission) => permission.FunctionName === 'ViewerFunction.Arn');
    expect(permissions.length).toBe(VIEWER_ROUTES.length);
    for (const permission of permissions) {
      expect(permission.Principal).toBe('apigateway.amazonaws.com');
      expect(String(permission.SourceArn)).toMatch(
        /^arn:aws:execute-api:eu-west-1:111122223333:ViewerApi\/ViewerApiDeploymentStagedev\/GET\//,
      );
    }
  });

  it('its stage is regional, throttled, traced, logs errors without bodies and writes JSON access logs', () => {
    synth.templates.api.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'secure-embed-viewer-dev',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    const properties = readable(stageOf('ViewerApi').Properties) as Props & {
      AccessLogSetting: { DestinationArn: string; Format: string };
    };
    expect(properties.StageName).toBe('dev');
    expect(properties.TracingEnabled).toBe(true);
    expect(properties.MethodSettings).toEqual(expectedMethodSettings());
    expect(properties.AccessLogSetting.DestinationArn).toBe('ViewerAccessLogs.Arn');
    expect(JSON.parse(properties.AccessLogSetting.Format)).toMatchObject({ status: '$context.status' });
  });

  it('embed URLs point at the viewer API, which calls the authorized API; CORS admits the viewer origin', () => {
    const variables = (id: string) => {
      const [, fn] = Object.entries(resourcesOfType(synth.templates.api, 'AWS::Lambda::Function')).find(
        ([logicalId]) => withoutHash(logicalId) === id,
      ) as [string, { Properties: Props }];
      return (readable(fn.Properties.Environment) as { Variables: Record<string, string> }).Variables;
    };
    const viewerOrigin = 'https://ViewerApi.execute-api.eu-west-1.AWS::URLSuffix';
    expect(variables('EmbedTokensFunction').VIEWER_BASE_URL).toBe(`${viewerOrigin}/dev`);
    expect(variables('ViewerFunction')).toMatchObject({
      VIEWER_BASE_URL: `${viewerOrigin}/dev`,
      API_BASE_URL: 'https://Api.execute-api.eu-west-1.AWS::URLSuffix/dev',
      CONTROL_TABLE_NAME: 'Data:ControlTable',
    });
    for (const id of ['EmbedTokensFunction', 'EmbedSessionsFunction', 'EmbedQueryFunction', 'AdminFunction']) {
      expect(variables(id).ALLOWED_ORIGINS, id).toBe(
        `https://app.example.com,https://other.example.com,${viewerOrigin}`,
      );
    }
    expect(readable(synth.templates.api.findOutputs('ViewerUrl').ViewerUrl?.Value)).toBe(`${viewerOrigin}/dev`);
  });

  it(
    'a viewerBaseUrl context (custom domain) is used for embed URLs and CORS instead',
    () => {
      const custom = synthesizeApp({ viewerBaseUrl: 'https://embed.example.com/' });
      const [, tokens] = Object.entries(resourcesOfType(custom.templates.api, 'AWS::Lambda::Function')).find(
        ([id]) => withoutHash(id) === 'EmbedTokensFunction',
      ) as [string, { Properties: Props }];
      const variables = (tokens.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables.VIEWER_BASE_URL).toBe('https://embed.example.com');
      expect(variables.ALLOWED_ORIGINS).toBe('http://localhost:4000,https://embed.example.com');
    },
    SYNTH_TIMEOUT_MS,
  );
});
