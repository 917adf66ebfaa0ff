import { ValidationFailed } from '#errors';
import type { Dataset, DatasetRepository } from '#control/datasets';
import type { RlsMapping, RlsRule } from '#control/records';
import type { RlsRepository } from '#control/rls';
import { validateRlsMapping, validateRlsRules } from '#datasets/rls';
import { validateDatasetSchema } from '#datasets/schema';

export const MAX_DATASET_NAME_LENGTH = 200;

/** Creates a dataset with no data after validating its name and schema (`DATASET_SCHEMA_INVALID`). */
export async function createDataset(
  deps: { readonly datasets: DatasetRepository },
  input: { tenantId: string; datasetId: string; name: string; schema: unknown },
): Promise<Dataset> {
  if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > MAX_DATASET_NAME_LENGTH) {
    throw new ValidationFailed('name', `must be 1 to ${MAX_DATASET_NAME_LENGTH} characters`);
  }
  const schema = validateDatasetSchema(input.schema);
  return deps.datasets.create({ tenantId: input.tenantId, datasetId: input.datasetId, name: input.name, schema });
}

/**
 * Replaces a dataset's RLS rules after validating them against its schema (`DATASET_SCHEMA_INVALID`
 * naming the rule); `NOT_FOUND` when the tenant has no such dataset.
 */
export async function putRlsRules(
  deps: { readonly datasets: DatasetRepository; readonly rls: RlsRepository },
  tenantId: string,
  datasetId: string,
  rules: unknown,
): Promise<RlsRule[]> {
  const dataset = await deps.datasets.require(tenantId, datasetId);
  const valid = validateRlsRules(rules, dataset.schema);
  await deps.rls.putRules(tenantId, datasetId, valid);
  return valid;
}

/** Creates or replaces an RLS mapping after validating it. */
export async function putRlsMapping(
  deps: { readonly rls: RlsRepository },
  tenantId: string,
  mapping: unknown,
): Promise<RlsMapping> {
  const valid = validateRlsMapping(mapping);
  await deps.rls.putMapping(tenantId, valid);
  return valid;
}
