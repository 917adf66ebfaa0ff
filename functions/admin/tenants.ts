import { ValidationFailed } from '#errors';
import type { Tenant, TenantRepository } from '#control/tenants';

export const MAX_TENANT_NAME_LENGTH = 200;

/** Creates a tenant (operator onboarding); `CONFLICT` when it exists. */
export async function createTenant(
  deps: { readonly tenants: TenantRepository },
  input: { tenantId: string; name: string },
): Promise<Tenant> {
  if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > MAX_TENANT_NAME_LENGTH) {
    throw new ValidationFailed('name', `must be 1 to ${MAX_TENANT_NAME_LENGTH} characters`);
  }
  return deps.tenants.create(input);
}
