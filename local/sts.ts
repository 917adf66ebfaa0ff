/**
 * Development stand-in: a local AWS STS endpoint serving `AssumeRole` (and `GetCallerIdentity`)
 * over the AWS Query protocol (form-encoded `POST /`, XML answers), so the query Lambda's
 * tenant-scoped path — AssumeRole with the session tag `tenant=<t>`, then DynamoDB with those
 * credentials — runs unchanged locally with `AWS_ENDPOINT_URL_STS`. Not used in AWS.
 *
 * It validates the request like STS and hands out well-formed temporary credentials, but there is
 * no IAM behind it: DynamoDB Local accepts any credentials, so the ABAC policy (`LeadingKeys` =
 * `${aws:PrincipalTag/tenant}`) is NOT enforced locally. What it does is record every session
 * (role, session name, tags), so tests and the dev stack can assert which tenant a request ran as.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, RequestBodyTooLarge, readRequestBody } from './http.ts';

/** One AssumeRole call, as recorded. */
export interface AssumedRoleSession {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
  /** Session tags, e.g. `{ tenant: 'acme' }`. */
  readonly tags: Readonly<Record<string, string>>;
  readonly transitiveTagKeys: readonly string[];
  readonly accessKeyId: string;
  readonly expiration: Date;
}

export interface LocalStsOptions {
  readonly port?: number;
  /** The account in generated ARNs. */
  readonly accountId?: string;
  /** A role's MaxSessionDuration (STS default: 3600 s). */
  readonly maxSessionDurationSeconds?: number;
  readonly now?: () => Date;
}

/** A running local STS. */
export interface LocalSts {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_STS`. */
  readonly endpoint: string;
  readonly port: number;
  /** Every AssumeRole so far, oldest first. */
  readonly sessions: readonly AssumedRoleSession[];
  /** The session that issued these credentials (what IAM would evaluate as the principal). */
  sessionFor(accessKeyId: string): AssumedRoleSession | undefined;
  close(): Promise<void>;
}

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Starts the local STS on 127.0.0.1. */
export async function startLocalSts(options: LocalStsOptions = {}): Promise<LocalSts> {
  const sessions: AssumedRoleSession[] = [];
  const byAccessKey = new Map<string, AssumedRoleSession>();
  const accountId = options.accountId ?? '000000000000';
  const now = () => options.now?.() ?? new Date();

  const assumeRole = (params: URLSearchParams): string => {
    const roleArn = params.get('RoleArn') ?? '';
    const roleSessionName = params.get('RoleSessionName') ?? '';
    const role = ROLE_ARN.exec(roleArn);
    if (!role || roleArn.length > 2048) {
      throw new StsError('ValidationError', `${roleArn || 'RoleArn'} is not a valid role ARN.`);
    }
    if (!SESSION_NAME.test(roleSessionName)) {
      throw new StsError(
        'ValidationError',
        "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match [\\w+=,.@-]*",
      );
    }
    const durationSeconds = params.has('DurationSeconds') ? Number(params.get('DurationSeconds')) : 3600;
    if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200) {
      throw new StsError(
        'ValidationError',
        "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
      );
    }
    if (durationSeconds > (options.maxSessionDurationSeconds ?? 3600)) {
      throw new StsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }
    const tags = memberList(params, 'Tags', (prefix) => ({
      key: params.get(`${prefix}.Key`) ?? '',
      value: params.get(`${prefix}.Value`) ?? '',
    }));
    if (tags.length > 50) throw new StsError('ValidationError', 'A session can have at most 50 tags.');
    const tagMap: Record<string, string> = {};
    for (const { key, value } of tags) {
      if (key.length < 1 || key.length > 128 || value.length > 256) {
        throw new StsError('ValidationError', 'Session tag keys must be 1-128 and values 0-256 characters long.');
      }
      // IAM tag keys are case-insensitive; STS refuses duplicates that differ only by case.
      if (Object.keys(tagMap).some((k) => k.toLowerCase() === key.toLowerCase())) {
        throw new StsError('InvalidParameterValue', `Duplicate tag keys found: ${key}.`);
      }
      tagMap[key] = value;
    }
    const transitiveTagKeys = memberList(params, 'TransitiveTagKeys', (prefix) => params.get(prefix) ?? '');

    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const expiration = new Date(Math.floor(now().getTime() / 1000) * 1000 + durationSeconds * 1000);
    const session: AssumedRoleSession = Object.freeze({
      roleArn,
      roleSessionName,
      durationSeconds,
      tags: Object.freeze(tagMap),
      transitiveTagKeys: Object.freeze(transitiveTagKeys),
      accessKeyId,
      expiration,
    });
    sessions.push(session);
    byAccessKey.set(accessKeyId, session);
    const roleName = role[3] as string;
    const roleId = `AROA${randomBytes(8).toString('hex').toUpperCase()}`;
    return [
      `<AssumeRoleResponse xmlns="${XMLNS}">`,
      '<AssumeRoleResult>',
      '<AssumedRoleUser>',
      `<Arn>arn:aws:sts::${role[1]}:assumed-role/${xml(roleName)}/${xml(roleSessionName)}</Arn>`,
      `<AssumedRoleId>${roleId}:${xml(roleSessionName)}</AssumedRoleId>`,
      '</AssumedRoleUser>',
      '<Credentials>',
      `<AccessKeyId>${accessKeyId}</AccessKeyId>`,
      `<SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>`,
      `<SessionToken>${randomBytes(96).toString('base64')}</SessionToken>`,
      `<Expiration>${expiration.toISOString().replace('.000Z', 'Z')}</Expiration>`,
      '</Credentials>',
      `<PackedPolicySize>${Math.min(100, tags.length * 2)}</PackedPolicySize>`,
      '</AssumeRoleResult>',
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`,
      '</AssumeRoleResponse>',
    ].join('');
  };

  const getCallerIdentity = (accessKeyId: string | undefined): string => {
    const session = accessKeyId ? byAccessKey.get(accessKeyId) : undefined;
    const arn = session
      ? `arn:aws:sts::${accountId}:assumed-role/${session.roleArn.split('/').pop()}/${session.roleSessionName}`
      : `arn:aws:iam::${accountId}:user/local`;
    return [
      `<GetCallerIdentityResponse xmlns="${XMLNS}">`,
      '<GetCallerIdentityResult>',
      `<Arn>${xml(arn)}</Arn>`,
      `<UserId>${xml(accessKeyId ?? 'local')}</UserId>`,
      `<Account>${accountId}</Account>`,
      '</GetCallerIdentityResult>',
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`,
      '</GetCallerIdentityResponse>',
    ].join('');
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    try {
      if (request.method !== 'POST' && request.method !== 'GET') {
        throw new StsError('InvalidAction', 'Only GET and POST are served.', 405);
      }
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = request.method === 'POST' ? (await readRequestBody(request, 64 * 1024)).toString('utf8') : '';
      // The Query protocol allows parameters in the query string or the form body.
      const params = new URLSearchParams(body);
      for (const [key, value] of url.searchParams) if (!params.has(key)) params.set(key, value);
      const action = params.get('Action');
      let xmlBody: string;
      if (action === 'AssumeRole') xmlBody = assumeRole(params);
      else if (action === 'GetCallerIdentity') xmlBody = getCallerIdentity(accessKeyFromAuthorization(request));
      else throw new StsError('InvalidAction', `Could not find operation ${action ?? '(none)'} for version 2011-06-15`);
      sendXml(response, 200, xmlBody);
    } catch (error) {
      const stsError =
        error instanceof StsError
          ? error
          : error instanceof RequestBodyTooLarge
            ? new StsError('ValidationError', error.message, 413)
            : new StsError('InternalFailure', String(error), 500);
      sendXml(
        response,
        stsError.status,
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${stsError.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
          `<Code>${xml(stsError.code)}</Code><Message>${xml(stsError.message)}</Message></Error>` +
          `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  const port = await listenOnLoopback(server, options.port);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    sessions,
    sessionFor: (accessKeyId) => byAccessKey.get(accessKeyId),
    close: () => closeServer(server),
  };
}

/** Reads a Query-protocol list (`<Name>.member.<n>…`) in order. */
function memberList<T>(params: URLSearchParams, name: string, read: (prefix: string) => T): T[] {
  const items: T[] = [];
  for (let n = 1; ; n += 1) {
    const prefix = `${name}.member.${n}`;
    const present = [...params.keys()].some((key) => key === prefix || key.startsWith(`${prefix}.`));
    if (!present) return items;
    items.push(read(prefix));
  }
}

/** The access key id from a SigV4 `Authorization` header (`Credential=<key>/<date>/…`). */
function accessKeyFromAuthorization(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization ?? '';
  return /Credential=([^/]+)\//.exec(header)?.[1];
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sendXml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
