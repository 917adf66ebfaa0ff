import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import { DependencyUnavailable } from '#errors';
import { createDocumentClient } from './clients.ts';
import { isTenantId } from './identity.ts';

interface CachedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface TenantScopedClientsOptions {
  readonly sts: STSClient;
  /** The tenant-scoped role: its policy only allows items whose leading key is `${aws:PrincipalTag/tenant}#…`. */
  readonly roleArn: string;
  /** Session length; STS minimum is 900 s. */
  readonly durationSeconds?: number;
  /** Refresh this long before the credentials expire. */
  readonly refreshMarginMs?: number;
  readonly now?: () => number;
}

/**
 * DynamoDB document clients that act as one tenant: each assumes the tenant-scoped role with the
 * session tag `tenant=<tenantId>` taken from the verified caller, so IAM refuses any item of another
 * tenant even if the code had a bug. Credentials and clients are cached per tenant per container;
 * concurrent first requests of a tenant share one AssumeRole call.
 */
export class TenantScopedClients {
  readonly #options: Required<Omit<TenantScopedClientsOptions, 'now'>> & { now: () => number };
  readonly #credentials = new Map<string, CachedCredentials>();
  readonly #inFlight = new Map<string, Promise<CachedCredentials>>();
  readonly #clients = new Map<string, DynamoDBDocumentClient>();

  constructor(options: TenantScopedClientsOptions) {
    this.#options = {
      durationSeconds: 900,
      refreshMarginMs: 120_000,
      now: Date.now,
      ...options,
    };
  }

  /** A document client whose every call carries the tenant's scoped credentials. */
  documentClient(tenantId: string): DynamoDBDocumentClient {
    if (!isTenantId(tenantId)) throw new TypeError('invalid tenant id');
    let client = this.#clients.get(tenantId);
    if (!client) {
      // Same timeout policy as the function's own client; an STS failure inside the credential
      // provider surfaces as DependencyUnavailable through the table gateway.
      client = createDocumentClient({ credentials: () => this.credentials(tenantId) });
      this.#clients.set(tenantId, client);
    }
    return client;
  }

  /** The tenant's current credentials, assuming the role when missing or about to expire. */
  async credentials(tenantId: string): Promise<CachedCredentials> {
    const cached = this.#credentials.get(tenantId);
    if (cached && cached.expiration.getTime() - this.#options.refreshMarginMs > this.#options.now()) return cached;
    let pending = this.#inFlight.get(tenantId);
    if (!pending) {
      pending = this.#assume(tenantId).finally(() => this.#inFlight.delete(tenantId));
      this.#inFlight.set(tenantId, pending);
    }
    return pending;
  }

  async #assume(tenantId: string): Promise<CachedCredentials> {
    let response: AssumeRoleCommandOutput;
    try {
      response = await this.#options.sts.send(
        new AssumeRoleCommand({
          RoleArn: this.#options.roleArn,
          RoleSessionName: `tenant-${tenantId}`.slice(0, 64),
          DurationSeconds: this.#options.durationSeconds,
          Tags: [{ Key: 'tenant', Value: tenantId }],
        }),
      );
    } catch (cause) {
      throw new DependencyUnavailable({ cause });
    }
    const c = response.Credentials;
    if (
      !c ||
      typeof c.AccessKeyId !== 'string' ||
      typeof c.SecretAccessKey !== 'string' ||
      typeof c.SessionToken !== 'string' ||
      !(c.Expiration instanceof Date)
    ) {
      throw new DependencyUnavailable();
    }
    const credentials: CachedCredentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
    this.#credentials.set(tenantId, credentials);
    return credentials;
  }
}
