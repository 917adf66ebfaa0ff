import { RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Conflict, DependencyUnavailable, RotationTooSoon, TenantNotOnboarded } from '#errors';
import type { KeySetSource } from '#keys/types';
import { signingKeySecretName } from '#keys/secret-value';
import { MAX_TOKEN_LIFETIME_SECONDS } from '#token/format';
import { DEFAULT_KEY_CACHE_TTL_MS } from '#keys/public-key-directory';

/** Two rotations must be one token lifetime plus one signer cache TTL apart, or a live token could carry a retired key. */
export const MIN_ROTATION_INTERVAL_MS = MAX_TOKEN_LIFETIME_SECONDS * 1000 + DEFAULT_KEY_CACHE_TTL_MS;

/**
 * Starts a rotation of the tenant's signing key now, through Secrets Manager (which runs the
 * rotation Lambda's four steps). Refused with ROTATION_TOO_SOON inside the minimum interval, so
 * an admin clicking twice cannot retire a key that live tokens still carry.
 */
export async function rotateSigningKeyNow(deps: {
  readonly secrets: SecretsManagerClient;
  readonly keySets: KeySetSource;
  readonly prefix: string;
  readonly tenantId: string;
  readonly now: () => number;
}): Promise<{ rotationStarted: true; currentKid: string }> {
  const set = await deps.keySets.getKeySet(deps.tenantId);
  const current = set?.keys.find((key) => key.status === 'current');
  if (!current) throw new TenantNotOnboarded();
  const since = Date.parse(current.activatedAt ?? current.createdAt);
  const elapsed = deps.now() - since;
  if (elapsed < MIN_ROTATION_INTERVAL_MS) {
    throw new RotationTooSoon(Math.ceil((MIN_ROTATION_INTERVAL_MS - elapsed) / 1000));
  }
  try {
    await deps.secrets.send(
      new RotateSecretCommand({ SecretId: signingKeySecretName(deps.prefix, deps.tenantId), RotateImmediately: true }),
    );
  } catch (cause) {
    // Secrets Manager refuses a new rotation while the previous one has not finished.
    if ((cause as { name?: string }).name === 'InvalidRequestException') {
      throw new Conflict('A rotation of the signing key is already in progress.');
    }
    throw new DependencyUnavailable({ cause });
  }
  return { rotationStarted: true, currentKid: current.kid };
}
