import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createTenant } from '#admin/tenants';
import { TableGateway } from '#control/table-gateway';
import { TenantRepository } from '#control/tenants';
import { EmbedError } from '#errors';
import { documentClient } from '#shared/clients';
import { optionalEnv, requireEnv } from '#shared/config';
import { createKeySetRepository } from '#keys/key-set';
import { createTenantSigningKey } from '#keys/onboarding';
import { DEFAULT_SIGNING_KEY_SECRET_PREFIX } from '#keys/secret-value';

/**
 * `npm run onboard-tenant -- --tenant acme [--name "Acme Corp"] [--rotation-days 30]`
 *
 * Operator tool, run with operator credentials: records the tenant, creates its signing key in
 * Secrets Manager (encrypted with SIGNING_KEY_KMS_KEY_ID when set), publishes the public key and
 * turns on scheduled rotation with ROTATION_LAMBDA_ARN. Reads CONTROL_TABLE_NAME,
 * SIGNING_KEY_SECRET_PREFIX, ROTATION_LAMBDA_ARN, SIGNING_KEY_KMS_KEY_ID from the environment
 * (the Data stack's outputs). Exit codes: 0 done, 1 refused or failed, 2 bad usage.
 */

const USAGE = 'usage: npm run onboard-tenant -- --tenant <tenantId> [--name <display name>] [--rotation-days <1-1000>]';

async function main(): Promise<number> {
  let values: { tenant?: string; name?: string; 'rotation-days'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        tenant: { type: 'string' },
        name: { type: 'string' },
        'rotation-days': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.tenant) {
    console.error(`--tenant is required\n${USAGE}`);
    return 2;
  }
  const rotationDays = Number(values['rotation-days'] ?? '30');
  const tenantId = values.tenant;
  const controlTable = requireEnv('CONTROL_TABLE_NAME');
  const table = new TableGateway(documentClient(), controlTable);
  try {
    await createTenant({ tenants: new TenantRepository(table) }, { tenantId, name: values.name ?? tenantId });
    const kmsKeyId = process.env.SIGNING_KEY_KMS_KEY_ID;
    const created = await createTenantSigningKey({
      secrets: new SecretsManagerClient({}),
      keySets: createKeySetRepository({ table }),
      prefix: optionalEnv('SIGNING_KEY_SECRET_PREFIX', DEFAULT_SIGNING_KEY_SECRET_PREFIX),
      tenantId,
      rotationLambdaArn: requireEnv('ROTATION_LAMBDA_ARN'),
      schedule: { rotationDays },
      ...(kmsKeyId ? { kmsKeyId } : {}),
      now: Date.now,
    });
    console.log(
      `tenant ${tenantId} onboarded: signing key ${created.kid}, secret ${created.secretArn}, rotation every ${rotationDays} days`,
    );
    return 0;
  } catch (error) {
    if (error instanceof EmbedError) {
      console.error(`refused: ${error.code}: ${error.message}`);
      return 1;
    }
    console.error(`failed: ${(error as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();
