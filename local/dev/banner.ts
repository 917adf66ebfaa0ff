import type { DevStack } from './stack.ts';

/** What `npm run dev` prints once the stack is ready: where everything is, and who can sign in. */
export function banner(stack: DevStack, run: { stateDir: string | undefined; seconds: number }): string {
  const { urls, services } = stack;
  const width = Math.max(...stack.users.map((user) => user.username.length));
  const users = stack.users.map(
    (user) =>
      `    ${user.username.padEnd(width)}  ${user.password.padEnd(18)}  ${user.tenantId.padEnd(7)} ${user.role}`,
  );
  return [
    '',
    `secure-embed dev stack ready in ${run.seconds.toFixed(1)} s (${run.stateDir ? `state in ${run.stateDir}` : 'in-memory state'})`,
    '',
    `  Demo host app (acme)    ${urls.demo}          origin ${urls.demoOrigin}`,
    `  Demo host app (globex)  ${urls.globexDemo}`,
    `  Viewer                  ${urls.viewerBase}/embed/<tenantId>/<embedId>   origin ${urls.viewerOrigin}`,
    `  API                     ${urls.api}/v1/…   (CORS: ${urls.demoOrigin})`,
    `  Health                  ${urls.health}`,
    `  Embeds                  ${Object.entries(stack.embedIds)
      .map(([tenant, id]) => `${id} (${tenant})`)
      .join(', ')}`,
    '',
    '  Demo users (passwords are public and for this local demo only):',
    ...users,
    '',
    `  DynamoDB Local ${services.dynamoEndpoint} · cognito-local ${services.cognitoEndpoint} (pool ${services.userPoolId})`,
    `  Secrets Manager ${services.secretsManagerEndpoint} · STS ${services.stsEndpoint}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
