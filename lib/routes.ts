/**
 * The one route table. The CDK API stack builds API Gateway resources and methods from it and
 * the local gateway (`local/`) serves the same handlers from it, so local and deployed routing
 * cannot drift. Pure data: no CDK or Lambda imports.
 */

/** A Lambda function of the API: its handler entry lives at `functions/handlers/<name>.ts`. */
export type ApiFunctionName = 'embed-tokens' | 'embed-sessions' | 'embed-query' | 'admin';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  readonly method: HttpMethod;
  /** API Gateway resource path, with `{param}` segments; equals `event.resource` in the handler. */
  readonly path: string;
  readonly function: ApiFunctionName;
  /** Every route is Cognito-authenticated; `group` additionally requires membership. */
  readonly group?: 'tenant-admins';
  readonly summary: string;
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/v1/embed-tokens', function: 'embed-tokens', summary: 'Sign an embed token for a viewer' },
  {
    method: 'POST',
    path: '/v1/embed/sessions',
    function: 'embed-sessions',
    summary: 'Redeem an embed token once and open an embed session',
  },
  {
    method: 'POST',
    path: '/v1/embed/sessions/{sessionId}/renew',
    function: 'embed-sessions',
    summary: 'Renew an embed session in place with a new embed token',
  },
  {
    method: 'POST',
    path: '/v1/embed/query',
    function: 'embed-query',
    summary: 'Data for all widgets of the session dashboard',
  },

  { method: 'GET', path: '/v1/admin/datasets', function: 'admin', group: 'tenant-admins', summary: 'List datasets' },
  {
    method: 'POST',
    path: '/v1/admin/datasets',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Create a dataset',
  },
  {
    method: 'GET',
    path: '/v1/admin/datasets/{datasetId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Get a dataset schema',
  },
  {
    method: 'POST',
    path: '/v1/admin/datasets/{datasetId}/imports',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Import rows (CSV or JSON) into a dataset',
  },
  {
    method: 'GET',
    path: '/v1/admin/datasets/{datasetId}/rls-rules',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Get the RLS rules of a dataset',
  },
  {
    method: 'PUT',
    path: '/v1/admin/datasets/{datasetId}/rls-rules',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Replace the RLS rules of a dataset',
  },
  {
    method: 'GET',
    path: '/v1/admin/rls-mappings/{mappingId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Get an RLS user/group mapping',
  },
  {
    method: 'PUT',
    path: '/v1/admin/rls-mappings/{mappingId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Replace an RLS user/group mapping',
  },
  {
    method: 'GET',
    path: '/v1/admin/dashboards',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'List dashboards',
  },
  {
    method: 'POST',
    path: '/v1/admin/dashboards',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Create a dashboard with its widgets',
  },
  {
    method: 'GET',
    path: '/v1/admin/dashboards/{dashboardId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Get a dashboard',
  },
  {
    method: 'PUT',
    path: '/v1/admin/dashboards/{dashboardId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Replace a dashboard and its widgets',
  },
  { method: 'GET', path: '/v1/admin/embeds', function: 'admin', group: 'tenant-admins', summary: 'List embeds' },
  { method: 'POST', path: '/v1/admin/embeds', function: 'admin', group: 'tenant-admins', summary: 'Create an embed' },
  {
    method: 'GET',
    path: '/v1/admin/embeds/{embedId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Get an embed',
  },
  {
    method: 'PATCH',
    path: '/v1/admin/embeds/{embedId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Update an embed (parameter modes, origins, lifetime, enabled)',
  },
  {
    method: 'POST',
    path: '/v1/admin/signing-keys/rotate',
    function: 'admin',
    group: 'tenant-admins',
    summary: "Rotate the tenant's signing key now",
  },
  {
    method: 'GET',
    path: '/v1/admin/revocations',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'List revocations',
  },
  {
    method: 'POST',
    path: '/v1/admin/revocations',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Revoke a token, a user or an embed',
  },
  {
    method: 'GET',
    path: '/v1/admin/audit',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Query the audit log (paged)',
  },
];

/** The key handlers dispatch on: `"<METHOD> <resource path>"`. */
export function routeKey(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}
