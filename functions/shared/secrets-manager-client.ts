import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CONTROL_PLANE_TIMEOUTS, clientOptions } from './clients.ts';

let client: SecretsManagerClient | undefined;

/** The function's Secrets Manager client, once per container, with the control-plane timeout policy. */
export function secretsManagerClient(): SecretsManagerClient {
  client ??= new SecretsManagerClient(clientOptions(CONTROL_PLANE_TIMEOUTS));
  return client;
}
