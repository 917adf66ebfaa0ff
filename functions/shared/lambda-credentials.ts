import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Substituted for `@aws-sdk/credential-provider-node` when a Lambda is bundled (see
 * lib/bundling.ts). In Lambda the execution role's credentials are always in the environment, so
 * the SDK's full default chain (SSO, shared profiles, process, web identity, IMDS) is dead code
 * that cost ~135 KB of bundle and its load time on every cold start. Local runs are not bundled
 * and keep the full chain.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
