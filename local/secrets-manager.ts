/**
 * Development stand-in: a local AWS Secrets Manager endpoint. Not used in AWS.
 *
 * It speaks the AWS JSON 1.1 protocol (`POST /`, `X-Amz-Target: secretsmanager.<Operation>`),
 * answers errors as `400 { "__type", "message" }` like the service, so the unmodified SDK v3
 * client (pointed here by `AWS_ENDPOINT_URL_SECRETS_MANAGER`) raises the same exception classes
 * it raises against AWS. It serves only the operations the product and its tests send
 * (CreateSecret, GetSecretValue, PutSecretValue, DescribeSecret, UpdateSecretVersionStage,
 * RotateSecret), with the service's version and staging-label semantics, and runs rotation
 * in-process through a `rotationHandler` callback standing in for the rotation Lambda. Secret
 * values are strings (the product stores JSON), looked up by name or full ARN.
 *
 * Deliberate differences from AWS, because they make local runs deterministic:
 * - RotateSecret with `RotateImmediately` (the default) answers only after the four rotation
 *   steps have run. As in AWS, a failing step does not fail the RotateSecret call (in AWS the
 *   call has returned before the function runs); it is reported to `onRotationFailure`, leaves
 *   AWSPENDING in place, and the next RotateSecret is refused with InvalidRequestException.
 * - RotateSecret with `RotateImmediately: false` only stores the rotation configuration; there
 *   is no scheduler, so no rotation ever happens by itself.
 * - No KMS, resource policies, replication, deletion or IAM: any credentials are accepted.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readRequestBody } from './http.ts';

/** One invocation of the rotation function, shaped like the event Secrets Manager sends. */
export interface RotationEvent {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  /** The secret's ARN (AWS always passes the ARN). */
  readonly SecretId: string;
  /** The version id of the new (AWSPENDING) version. */
  readonly ClientRequestToken: string;
  readonly RotationToken?: string;
}

/** Stands in for the rotation Lambda; `rotationLambdaArn` is the ARN configured on the secret. */
export type RotationHandler = (event: RotationEvent, context: { rotationLambdaArn: string }) => Promise<void>;

export interface LocalSecretsManagerOptions {
  /** Port on 127.0.0.1; a free one by default. */
  readonly port?: number;
  readonly region?: string;
  /** Called for createSecret, setSecret, testSecret, finishSecret in order on RotateSecret. */
  readonly rotationHandler?: RotationHandler;
  /** Told about a failed rotation (default: a warning on stderr), since the caller is not. */
  readonly onRotationFailure?: (error: unknown, event: RotationEvent) => void;
  /** When set, state is loaded from and saved to this JSON file (on-disk dev state). */
  readonly stateFile?: string;
  /** Told about every well-formed request before it is served (tests count calls with it). */
  readonly onRequest?: (operation: SecretsManagerOperation, input: Readonly<Record<string, unknown>>) => void;
}

/** A running local Secrets Manager. */
export interface LocalSecretsManager {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  readonly endpoint: string;
  readonly port: number;
  /** Replaces the rotation handler (e.g. once the handler's own env points at this server). */
  setRotationHandler(handler: RotationHandler | undefined): void;
  close(): Promise<void>;
}

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';
const PREVIOUS = 'AWSPREVIOUS';
const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
/** AWS keeps at most about 100 versions and drops the oldest unlabelled ones. */
const MAX_VERSIONS = 100;
const MAX_BODY_BYTES = 1024 * 1024;
const ACCOUNT_ID = '000000000000';

interface SecretVersion {
  versionId: string;
  secretString?: string;
  stages: string[];
  created: number;
  /** A version RotateSecret announced (labelled AWSPENDING) before createSecret gave it a value. */
  placeholder?: boolean;
}

interface RotationRules {
  AutomaticallyAfterDays?: number;
  ScheduleExpression?: string;
}

interface SecretRecord {
  arn: string;
  name: string;
  description?: string;
  tags: Array<{ Key: string; Value: string }>;
  created: number;
  lastChanged: number;
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRules;
  lastRotated?: number;
  /** True while RotateSecret is running the steps (refuses a concurrent rotation). */
  rotating?: boolean;
  versions: SecretVersion[];
}

/** An AWS-shaped error: `__type` is the exception name the SDK maps to its class. */
export class SecretsManagerServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

const invalidParameter = (message: string) => new SecretsManagerServiceError('InvalidParameterException', message);
const invalidRequest = (message: string) => new SecretsManagerServiceError('InvalidRequestException', message);
const notFound = (message: string) => new SecretsManagerServiceError('ResourceNotFoundException', message);
const exists = (message: string) => new SecretsManagerServiceError('ResourceExistsException', message);

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

/** The service state and operations, independent of HTTP. */
class SecretStore {
  private readonly secrets = new Map<string, SecretRecord>();
  rotationHandler: RotationHandler | undefined;

  constructor(readonly options: LocalSecretsManagerOptions) {
    this.rotationHandler = options.rotationHandler;
    if (options.stateFile) this.load(options.stateFile);
  }

  // -------------------------------------------------------------------------------------------
  // Operations
  // -------------------------------------------------------------------------------------------

  CreateSecret(input: Input): Output {
    const name = requiredString(input, 'Name');
    if (name.length > 512 || !/^[A-Za-z0-9/_+=.@-]+$/.test(name)) {
      throw invalidParameter(
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const token = clientRequestToken(input);
    // A secret may be created without a value; it then has no version until PutSecretValue.
    const value = input.SecretString === undefined && input.SecretBinary === undefined ? undefined : secretValue(input);
    const description = optionalString(input, 'Description');
    const tags = parseTags(input.Tags);
    const existing = this.secrets.get(name);
    if (existing) {
      // AWS treats a retry (same token, same value) as success instead of a conflict.
      const version = existing.versions.find((v) => v.versionId === token);
      if (version && value !== undefined && version.secretString === value) {
        return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
      }
      throw exists(`The operation failed because the secret ${name} already exists.`);
    }
    const now = Date.now();
    const record: SecretRecord = {
      arn: `arn:aws:secretsmanager:${this.region}:${ACCOUNT_ID}:secret:${name}-${arnSuffix()}`,
      name,
      tags,
      created: now,
      lastChanged: now,
      rotationEnabled: false,
      versions: [],
    };
    if (description !== undefined) record.description = description;
    if (value !== undefined)
      record.versions.push({ versionId: token, secretString: value, stages: [CURRENT], created: now });
    this.secrets.set(name, record);
    this.save();
    return { ARN: record.arn, Name: record.name, ...(value !== undefined ? { VersionId: token } : {}) };
  }

  GetSecretValue(input: Input): Output {
    const secret = this.find(input);
    const versionId = optionalString(input, 'VersionId');
    const stage = optionalString(input, 'VersionStage') ?? (versionId === undefined ? CURRENT : undefined);
    const version = versionId
      ? secret.versions.find((v) => v.versionId === versionId)
      : secret.versions.find((v) => stage !== undefined && v.stages.includes(stage));
    if (!version || version.placeholder) {
      throw notFound(
        versionId
          ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`
          : `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
      );
    }
    if (versionId && stage !== undefined && !version.stages.includes(stage)) {
      throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      SecretString: version.secretString,
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.created),
    };
  }

  PutSecretValue(input: Input): Output {
    const secret = this.find(input);
    const token = clientRequestToken(input);
    const value = secretValue(input);
    const stages = input.VersionStages === undefined ? [CURRENT] : stageList(input.VersionStages);
    const existing = secret.versions.find((v) => v.versionId === token);
    if (existing?.placeholder) {
      // The version RotateSecret announced gets its value (createSecret's PutSecretValue).
      existing.secretString = value;
      delete existing.placeholder;
      for (const stage of stages) this.attachStage(secret, stage, existing);
      secret.lastChanged = Date.now();
      this.save();
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
    }
    if (existing) {
      if (existing.secretString !== value) {
        throw exists(`You can't modify an existing version, you can only create a new version.`);
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
    }
    const version: SecretVersion = { versionId: token, secretString: value, stages: [], created: Date.now() };
    secret.versions.push(version);
    for (const stage of stages) this.attachStage(secret, stage, version);
    secret.lastChanged = Date.now();
    this.pruneVersions(secret);
    this.save();
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
  }

  DescribeSecret(input: Input): Output {
    return this.describe(this.find(input));
  }

  UpdateSecretVersionStage(input: Input): Output {
    const secret = this.find(input);
    const stage = requiredString(input, 'VersionStage');
    if (stage.length > 256) throw invalidParameter('VersionStage must be at most 256 characters.');
    const moveTo = optionalString(input, 'MoveToVersionId');
    const removeFrom = optionalString(input, 'RemoveFromVersionId');
    if (moveTo === undefined && removeFrom === undefined) {
      throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
    }
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (removeFrom !== undefined && holder?.versionId !== removeFrom) {
      throw invalidParameter(
        `The staging label ${stage} is not attached to version ${removeFrom}, so it can't be removed from it.`,
      );
    }
    if (moveTo === undefined) {
      if (stage === CURRENT) {
        throw invalidParameter(
          `You can't remove the staging label AWSCURRENT from a version without moving it to another version (MoveToVersionId).`,
        );
      }
      holder?.stages.splice(holder.stages.indexOf(stage), 1);
    } else {
      const target = secret.versions.find((v) => v.versionId === moveTo);
      if (!target) throw notFound(`Secrets Manager can't find the specified secret version: ${moveTo}`);
      if (holder && holder !== target && removeFrom === undefined) {
        // AWS insists on naming the current holder, so a stale caller cannot steal a label.
        throw invalidParameter(
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      this.attachStage(secret, stage, target);
    }
    secret.lastChanged = Date.now();
    this.pruneVersions(secret);
    this.save();
    return { ARN: secret.arn, Name: secret.name };
  }

  async RotateSecret(input: Input): Promise<Output> {
    const secret = this.find(input);
    const token = clientRequestToken(input);
    const lambdaArn = optionalString(input, 'RotationLambdaARN') ?? secret.rotationLambdaArn;
    const rules = input.RotationRules === undefined ? secret.rotationRules : parseRotationRules(input.RotationRules);
    const rotateImmediately = input.RotateImmediately !== false;
    if (!lambdaArn) {
      throw invalidRequest('No Lambda rotation function ARN is associated with this secret.');
    }
    const pending = secret.versions.find((v) => v.stages.includes(PENDING));
    const current = secret.versions.find((v) => v.stages.includes(CURRENT));
    if (secret.rotating || (pending && pending !== current)) {
      throw invalidRequest('A previous rotation isn’t complete. That rotation will be reattempted.');
    }
    if (secret.versions.some((v) => v.versionId === token)) {
      throw exists(`A version with the ClientRequestToken ${token} already exists.`);
    }
    const handler = this.rotationHandler;
    if (rotateImmediately && !handler) {
      throw invalidRequest('The local Secrets Manager has no rotation handler, so it cannot run a rotation.');
    }
    secret.rotationEnabled = true;
    secret.rotationLambdaArn = lambdaArn;
    if (rules) secret.rotationRules = rules;
    else delete secret.rotationRules;
    this.save();
    if (!rotateImmediately || !handler) return { ARN: secret.arn, Name: secret.name };

    secret.rotating = true;
    // As the service does, the new version exists (labelled AWSPENDING, without a value) before the
    // rotation function runs: createSecret checks that the token is staged for rotation.
    const announced: SecretVersion = { versionId: token, stages: [], created: Date.now(), placeholder: true };
    secret.versions.push(announced);
    this.attachStage(secret, PENDING, announced);
    const rotationToken = randomUUID();
    let step: RotationEvent | undefined;
    try {
      for (const Step of ROTATION_STEPS) {
        step = { Step, SecretId: secret.arn, ClientRequestToken: token, RotationToken: rotationToken };
        await handler(step, { rotationLambdaArn: lambdaArn });
      }
      const rotated = secret.versions.find((v) => v.versionId === token);
      if (!rotated?.stages.includes(CURRENT)) {
        throw new Error(`finishSecret did not move ${CURRENT} to version ${token}`);
      }
      // Secrets Manager itself removes AWSPENDING once finishSecret has made the version current.
      rotated.stages = rotated.stages.filter((s) => s !== PENDING);
      secret.lastRotated = Date.now();
      this.save();
    } catch (error) {
      const failed = step ?? { Step: 'createSecret', SecretId: secret.arn, ClientRequestToken: token };
      (this.options.onRotationFailure ?? defaultRotationFailure)(error, failed);
    } finally {
      secret.rotating = false;
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  private get region(): string {
    return this.options.region ?? 'us-east-1';
  }

  /** Resolves `SecretId` by name or full ARN. */
  private find(input: Input): SecretRecord {
    const id = requiredString(input, 'SecretId');
    const secret = this.secrets.get(id) ?? [...this.secrets.values()].find((candidate) => candidate.arn === id);
    if (!secret) throw notFound(`Secrets Manager can't find the specified secret.`);
    return secret;
  }

  /**
   * Attaches a label to a version, detaching it from its previous holder. Moving AWSCURRENT
   * labels the old current version AWSPREVIOUS, as the service does.
   */
  private attachStage(secret: SecretRecord, stage: string, target: SecretVersion): void {
    if (target.stages.includes(stage)) return;
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
    if (target.stages.length >= 20)
      throw new SecretsManagerServiceError('LimitExceededException', 'A version can have at most 20 staging labels.');
    target.stages.push(stage);
    if (stage === CURRENT && holder) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== PREVIOUS);
      holder.stages.push(PREVIOUS);
    }
  }

  private pruneVersions(secret: SecretRecord): void {
    while (secret.versions.length > MAX_VERSIONS) {
      const oldestUnlabelled = secret.versions
        .filter((v) => v.stages.length === 0)
        .sort((a, b) => a.created - b.created)[0];
      if (!oldestUnlabelled) return;
      secret.versions.splice(secret.versions.indexOf(oldestUnlabelled), 1);
    }
  }

  private describe(secret: SecretRecord): Output {
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description !== undefined ? { Description: secret.description } : {}),
      RotationEnabled: secret.rotationEnabled,
      ...(secret.rotationLambdaArn !== undefined ? { RotationLambdaARN: secret.rotationLambdaArn } : {}),
      ...(secret.rotationRules !== undefined ? { RotationRules: { ...secret.rotationRules } } : {}),
      ...(secret.lastRotated !== undefined ? { LastRotatedDate: seconds(secret.lastRotated) } : {}),
      LastChangedDate: seconds(secret.lastChanged),
      Tags: secret.tags.map((t) => ({ ...t })),
      VersionIdsToStages: Object.fromEntries(
        secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]]),
      ),
      CreatedDate: seconds(secret.created),
    };
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed = JSON.parse(text) as { secrets?: SecretRecord[] };
    for (const secret of parsed.secrets ?? []) {
      secret.rotating = false;
      this.secrets.set(secret.name, secret);
    }
  }

  private save(): void {
    const file = this.options.stateFile;
    if (!file) return;
    // Write-then-rename so a crash never leaves a half-written state file behind.
    const temporary = `${file}.${process.pid}.tmp`;
    const secrets = [...this.secrets.values()].map(({ rotating: _rotating, ...secret }) => secret);
    writeFileSync(temporary, `${JSON.stringify({ secrets }, null, 2)}\n`);
    renameSync(temporary, file);
  }
}

// ---------------------------------------------------------------------------------------------
// Input validation helpers (AWS's messages, approximately)
// ---------------------------------------------------------------------------------------------

function requiredString(input: Input, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidParameter(`You must provide a value for the ${field} parameter.`);
  }
  return value;
}

function optionalString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`The ${field} parameter must be a string.`);
  return value;
}

function clientRequestToken(input: Input): string {
  const token = optionalString(input, 'ClientRequestToken') ?? randomUUID();
  if (token.length < 32 || token.length > 64) {
    throw invalidParameter('ClientRequestToken must be between 32 and 64 characters long.');
  }
  return token;
}

/** The secret value: a string (the product stores JSON); binary secrets are not served locally. */
function secretValue(input: Input): string {
  if (input.SecretBinary !== undefined) {
    throw invalidParameter('The local Secrets Manager stores SecretString values only.');
  }
  const value = optionalString(input, 'SecretString');
  if (value === undefined) throw invalidParameter('You must provide either SecretString or SecretBinary.');
  if (value.length > 65_536) throw invalidParameter('The secret value must be at most 65536 bytes.');
  return value;
}

function stageList(raw: unknown): string[] {
  if (
    !Array.isArray(raw) ||
    raw.length === 0 ||
    raw.length > 20 ||
    raw.some((s) => typeof s !== 'string' || s === '')
  ) {
    throw invalidParameter('VersionStages must be a list of 1 to 20 staging labels.');
  }
  return [...new Set(raw as string[])];
}

function parseTags(raw: unknown): Array<{ Key: string; Value: string }> {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw invalidParameter('Tags must be a list.');
  return raw.map((tag) => {
    const { Key, Value } = (tag ?? {}) as { Key?: unknown; Value?: unknown };
    if (
      typeof Key !== 'string' ||
      Key.length === 0 ||
      Key.length > 128 ||
      (Value !== undefined && typeof Value !== 'string')
    ) {
      throw invalidParameter('Each tag needs a Key of 1 to 128 characters and a string Value.');
    }
    return { Key, Value: (Value as string | undefined) ?? '' };
  });
}

function parseRotationRules(raw: unknown): RotationRules {
  if (typeof raw !== 'object' || raw === null) throw invalidParameter('RotationRules must be an object.');
  const { AutomaticallyAfterDays, ScheduleExpression } = raw as Record<string, unknown>;
  const rules: RotationRules = {};
  if (AutomaticallyAfterDays !== undefined) {
    if (
      !Number.isInteger(AutomaticallyAfterDays) ||
      Number(AutomaticallyAfterDays) < 1 ||
      Number(AutomaticallyAfterDays) > 1000
    ) {
      throw invalidParameter('AutomaticallyAfterDays must be an integer between 1 and 1000.');
    }
    rules.AutomaticallyAfterDays = AutomaticallyAfterDays as number;
  }
  if (ScheduleExpression !== undefined) {
    if (typeof ScheduleExpression !== 'string' || !/^(rate|cron)\(.+\)$/.test(ScheduleExpression)) {
      throw invalidParameter('ScheduleExpression must be a rate() or cron() expression.');
    }
    if (rules.AutomaticallyAfterDays !== undefined) {
      throw invalidParameter('You can’t specify both AutomaticallyAfterDays and ScheduleExpression.');
    }
    rules.ScheduleExpression = ScheduleExpression;
  }
  return rules;
}

/** The random 6-character ARN suffix AWS appends to secret names. */
function arnSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** The JSON protocol carries timestamps as epoch seconds. */
function seconds(epochMillis: number): number {
  return epochMillis / 1000;
}

function defaultRotationFailure(error: unknown, event: RotationEvent): void {
  const reason = error instanceof Error ? error.message : String(error);
  process.emitWarning(`Local Secrets Manager: rotation of ${event.SecretId} failed at ${event.Step}: ${reason}`);
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

const OPERATIONS = new Set([
  'CreateSecret',
  'GetSecretValue',
  'PutSecretValue',
  'DescribeSecret',
  'UpdateSecretVersionStage',
  'RotateSecret',
] as const);
/** The operations served: those the product and its tests send. */
export type SecretsManagerOperation = typeof OPERATIONS extends Set<infer T> ? T : never;

/** Starts the local Secrets Manager on 127.0.0.1. */
export async function startLocalSecretsManager(options: LocalSecretsManagerOptions = {}): Promise<LocalSecretsManager> {
  const store = new SecretStore(options);
  const server = createServer((request, response) => {
    handleRequest(store, request, response).catch((error: unknown) => {
      sendError(response, new SecretsManagerServiceError('InternalServiceError', String(error), 500));
    });
  });
  const port = await listenOnLoopback(server, options.port);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    setRotationHandler(handler) {
      store.rotationHandler = handler;
    },
    close: () => closeServer(server),
  };
}

async function handleRequest(store: SecretStore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
    return sendError(
      response,
      new SecretsManagerServiceError('UnknownOperationException', 'Only POST / is served.', 404),
    );
  }
  const target = String(request.headers['x-amz-target'] ?? '');
  const [service, operation] = target.split('.');
  if (service !== 'secretsmanager' || !operation || !OPERATIONS.has(operation as SecretsManagerOperation)) {
    return sendError(
      response,
      new SecretsManagerServiceError('UnknownOperationException', `Unsupported operation: ${target || '(none)'}`),
    );
  }
  let raw: string;
  try {
    raw = (await readRequestBody(request, MAX_BODY_BYTES)).toString('utf8');
  } catch {
    return sendError(
      response,
      new SecretsManagerServiceError('SerializationException', 'The request body is too large.', 413),
    );
  }
  let input: Input;
  try {
    const parsed: unknown = raw.trim() === '' ? {} : JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    input = parsed as Input;
  } catch {
    return sendError(
      response,
      new SecretsManagerServiceError('SerializationException', 'The request body is not a JSON object.'),
    );
  }
  store.options.onRequest?.(operation as SecretsManagerOperation, input);
  try {
    const output = await store[operation as SecretsManagerOperation](input);
    send(response, 200, output);
  } catch (error) {
    if (error instanceof SecretsManagerServiceError) return sendError(response, error);
    throw error;
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: SecretsManagerServiceError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  send(response, error.status, { __type: error.type, message: error.message });
}
