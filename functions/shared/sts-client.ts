import { STSClient } from '@aws-sdk/client-sts';
import { CONTROL_PLANE_TIMEOUTS, clientOptions } from './clients.ts';

let client: STSClient | undefined;

/** The function's STS client (AssumeRole of the tenant roles), once per container, with the control-plane timeout policy. */
export function stsClient(): STSClient {
  client ??= new STSClient(clientOptions(CONTROL_PLANE_TIMEOUTS));
  return client;
}
