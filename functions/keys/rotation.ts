import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { DependencyUnavailable, EmbedError, RotationTooSoon, SigningKeyRotationFailed } from '#errors';
import { EMBED_TOKEN_ALG, formatKid, MAX_TOKEN_LIFETIME_SECONDS, parseKid } from '#token/format';
import { signEmbedToken } from '#token/sign';
import { verifyEmbedToken } from '#token/verify';
import { generateSigningKeyPair, importSigningKey, toPublicJwk } from './key-material.ts';
import { highestGeneration, type KeySetRepository, withPendingKey, withPromotedKey } from './key-set.ts';
import { createPublicKeyDirectory, DEFAULT_KEY_CACHE_TTL_MS } from './public-key-directory.ts';
import {
  parseSigningKeySecret,
  type SigningKeySecret,
  serializeSigningKeySecret,
  tenantIdFromSecretName,
} from './secret-value.ts';
import type { Clock } from './types.ts';

/**
 * Secrets Manager rotation of a tenant's signing key, following the AWS rotation template:
 *
 * - `createSecret`: a new key pair (next generation) as AWSPENDING, unless this version exists.
 * - `setSecret`: publish the pending public key (status `pending`) so every validator knows it
 *   before anything signs with it.
 * - `testSecret`: sign with the pending private key and verify through the real public-key path.
 * - `finishSecret`: move AWSCURRENT to the new version, then publish new = current, old current =
 *   previous (its tokens stay valid until they expire), old previous = retired.
 *
 * Every step is idempotent, because Secrets Manager retries steps. Nothing here ever logs or
 * returns key material: the log callback only receives kids, steps and outcomes.
 */

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/** One step of one rotation, as Secrets Manager invokes it. */
export interface RotationRequest {
  readonly step: RotationStep;
  readonly secretId: string;
  readonly clientRequestToken: string;
}

/** What a step did (for the handler's log line). */
export interface RotationOutcome {
  readonly step: RotationStep;
  readonly tenantId: string;
  readonly result:
    | 'created'
    | 'pending-exists'
    | 'published'
    | 'already-published'
    | 'tested'
    | 'finished'
    | 'already-finished';
  /** The kid of the key this rotation introduces (never any key material). */
  readonly kid?: string;
}

export interface SigningKeyRotationOptions {
  readonly secrets: SecretsManagerClient;
  readonly keySets: KeySetRepository;
  /** Secret name prefix; only secrets named `<prefix><tenantId>` are rotated. */
  readonly prefix: string;
  readonly now: Clock;
  /**
   * Minimum time a key stays current before the next rotation may start. Retiring a key is safe
   * only when no live token can carry it: two rotations must be at least one token lifetime plus
   * one signer cache TTL apart (default 15 min).
   */
  readonly minRotationIntervalMs?: number;
}

/** Issuer/audience of the self-test token: no real validator accepts them. */
export const ROTATION_TEST_ISSUER = 'urn:secure-embed:rotation-test';
export const ROTATION_TEST_AUDIENCE = 'urn:secure-embed:rotation-test';

const PENDING = 'AWSPENDING';
const CURRENT = 'AWSCURRENT';

/** Creates the rotation step runner the rotation Lambda calls once per invocation. */
export function createSigningKeyRotation(options: SigningKeyRotationOptions): {
  runStep(request: RotationRequest): Promise<RotationOutcome>;
} {
  const { secrets, keySets, now } = options;
  const minIntervalMs = options.minRotationIntervalMs ?? MAX_TOKEN_LIFETIME_SECONDS * 1000 + DEFAULT_KEY_CACHE_TTL_MS;

  async function send<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (cause) {
      if (cause instanceof EmbedError) throw cause;
      throw new DependencyUnavailable({ cause });
    }
  }

  async function readVersion(
    secretId: string,
    tenantId: string,
    selector: { VersionId?: string; VersionStage?: string },
  ): Promise<SigningKeySecret | undefined> {
    let secretString: string | undefined;
    try {
      const result = await secrets.send(new GetSecretValueCommand({ SecretId: secretId, ...selector }));
      secretString = result.SecretString;
    } catch (cause) {
      if (cause instanceof ResourceNotFoundException) return undefined;
      throw new DependencyUnavailable({ cause });
    }
    try {
      return parseSigningKeySecret(secretString, tenantId);
    } catch (cause) {
      throw new SigningKeyRotationFailed('a secret version is not a valid signing key', { cause });
    }
  }

  async function requireVersion(
    secretId: string,
    tenantId: string,
    selector: { VersionId?: string; VersionStage?: string },
  ): Promise<SigningKeySecret> {
    const secret = await readVersion(secretId, tenantId, selector);
    if (!secret) throw new SigningKeyRotationFailed('the secret version does not exist');
    return secret;
  }

  async function requireKeySet(tenantId: string) {
    const set = await keySets.getKeySet(tenantId, { consistent: true });
    if (!set) throw new SigningKeyRotationFailed('the tenant has no published key set');
    return set;
  }

  async function createSecret(secretId: string, token: string, tenantId: string): Promise<RotationOutcome> {
    const current = await requireVersion(secretId, tenantId, { VersionStage: CURRENT });
    const existing = await readVersion(secretId, tenantId, { VersionId: token, VersionStage: PENDING });
    if (existing) return { step: 'createSecret', tenantId, result: 'pending-exists', kid: existing.kid };

    const set = await requireKeySet(tenantId);
    const active = set.keys.find((k) => k.kid === current.kid);
    const since = Date.parse(active?.activatedAt ?? active?.createdAt ?? current.createdAt);
    const elapsedMs = now() - since;
    if (elapsedMs < minIntervalMs) throw new RotationTooSoon(Math.ceil((minIntervalMs - elapsedMs) / 1000));

    // Past generations may exist only in the key set (an abandoned pending key): never reuse a kid.
    const generation = Math.max(parseKid(current.kid)?.generation ?? 0, highestGeneration(set)) + 1;
    const kid = formatKid(tenantId, generation);
    const { privateJwk } = await generateSigningKeyPair();
    const secretString = serializeSigningKeySecret({
      kid,
      alg: EMBED_TOKEN_ALG,
      privateJwk,
      createdAt: new Date(now()).toISOString(),
    });
    await send(() =>
      secrets.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: token,
          SecretString: secretString,
          VersionStages: [PENDING],
        }),
      ),
    );
    return { step: 'createSecret', tenantId, result: 'created', kid };
  }

  async function setSecret(secretId: string, token: string, tenantId: string): Promise<RotationOutcome> {
    const pending = await requireVersion(secretId, tenantId, { VersionId: token, VersionStage: PENDING });
    const set = await requireKeySet(tenantId);
    const at = new Date(now()).toISOString();
    const next = withPendingKey(
      set,
      { kid: pending.kid, jwk: toPublicJwk(pending.privateJwk), createdAt: pending.createdAt },
      at,
    );
    if (!next.changed) return { step: 'setSecret', tenantId, result: 'already-published', kid: pending.kid };
    await keySets.putKeySet(next.set, set.revision);
    return { step: 'setSecret', tenantId, result: 'published', kid: pending.kid };
  }

  async function testSecret(secretId: string, token: string, tenantId: string): Promise<RotationOutcome> {
    const pending = await requireVersion(secretId, tenantId, { VersionId: token, VersionStage: PENDING });
    const signingKey = {
      kid: pending.kid,
      alg: pending.alg,
      tenantId,
      privateKey: importSigningKey(pending.privateJwk),
    };
    const viewer = { sub: 'rotation-self-test', tenantId };
    const { token: testToken } = await signEmbedToken({
      signingKey,
      issuer: ROTATION_TEST_ISSUER,
      audience: ROTATION_TEST_AUDIENCE,
      viewer,
      embedId: 'rotation-self-test',
      resource: { type: 'dashboard', id: 'rotation-self-test' },
      lifetimeSeconds: 60,
      now: now(),
    });
    // A fresh directory with consistent reads: exactly what validators will resolve, without cache.
    const keys = createPublicKeyDirectory({
      source: { getKeySet: (t) => keySets.getKeySet(t, { consistent: true }) },
      now,
    });
    try {
      await verifyEmbedToken(testToken, viewer, {
        keys,
        issuer: ROTATION_TEST_ISSUER,
        audience: ROTATION_TEST_AUDIENCE,
        now,
      });
    } catch (cause) {
      throw new SigningKeyRotationFailed('the pending key does not verify through the published key set', { cause });
    }
    return { step: 'testSecret', tenantId, result: 'tested', kid: pending.kid };
  }

  async function finishSecret(
    secretId: string,
    token: string,
    tenantId: string,
    versions: Record<string, string[]>,
  ): Promise<RotationOutcome> {
    const currentVersion = Object.keys(versions).find((id) => versions[id]?.includes(CURRENT));
    const alreadyCurrent = currentVersion === token;
    if (!alreadyCurrent) {
      await send(() =>
        secrets.send(
          new UpdateSecretVersionStageCommand({
            SecretId: secretId,
            VersionStage: CURRENT,
            MoveToVersionId: token,
            ...(currentVersion ? { RemoveFromVersionId: currentVersion } : {}),
          }),
        ),
      );
    }
    // Also on a retry after the stage moved: the key set promotion may be what failed last time.
    const promoted = await requireVersion(secretId, tenantId, { VersionId: token });
    const set = await requireKeySet(tenantId);
    const next = withPromotedKeyOrFail(set, promoted.kid, new Date(now()).toISOString());
    if (next.changed) await keySets.putKeySet(next.set, set.revision);
    return {
      step: 'finishSecret',
      tenantId,
      result: alreadyCurrent && !next.changed ? 'already-finished' : 'finished',
      kid: promoted.kid,
    };
  }

  return {
    async runStep(request) {
      const { step, secretId, clientRequestToken: token } = request;
      const described = await send(() => secrets.send(new DescribeSecretCommand({ SecretId: secretId })));
      if (!described.RotationEnabled) throw new SigningKeyRotationFailed('rotation is not enabled for the secret');
      const tenantId = described.Name ? tenantIdFromSecretName(options.prefix, described.Name) : undefined;
      if (!tenantId) throw new SigningKeyRotationFailed('the secret is not a tenant signing key');
      const versions = described.VersionIdsToStages ?? {};
      const stages = versions[token];
      if (!stages) throw new SigningKeyRotationFailed('the version has no stage for rotation');

      if (stages.includes(CURRENT)) {
        // As the template does: nothing to do, except completing the key set on a retried finish.
        if (step === 'finishSecret') return finishSecret(secretId, token, tenantId, versions);
        return { step, tenantId, result: 'already-finished' };
      }
      if (!stages.includes(PENDING)) throw new SigningKeyRotationFailed('the version is not pending');

      switch (step) {
        case 'createSecret':
          return createSecret(secretId, token, tenantId);
        case 'setSecret':
          return setSecret(secretId, token, tenantId);
        case 'testSecret':
          return testSecret(secretId, token, tenantId);
        case 'finishSecret':
          return finishSecret(secretId, token, tenantId, versions);
        default:
          throw new SigningKeyRotationFailed('unknown rotation step');
      }
    },
  };
}

function withPromotedKeyOrFail(set: Parameters<typeof withPromotedKey>[0], kid: string, at: string) {
  try {
    return withPromotedKey(set, kid, at);
  } catch (cause) {
    throw new SigningKeyRotationFailed('the new key was never published', { cause });
  }
}
