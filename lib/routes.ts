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
    path: '/v1/admin/datasets/{datasetId}/rollups',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'List the rollups of a dataset and whether each serves the active version',
  },
  {
    method: 'PUT',
    path: '/v1/admin/datasets/{datasetId}/rollups/{rollupId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Declare or replace a rollup and build it for the active version (readers are not blocked)',
  },
  {
    method: 'DELETE',
    path: '/v1/admin/datasets/{datasetId}/rollups/{rollupId}',
    function: 'admin',
    group: 'tenant-admins',
    summary: 'Drop a rollup and delete its items',
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

/**
 * The function of the public viewer surface (`functions/handlers/viewer.ts`). A separate name type,
 * so `Route['function']` (and with it every method of the authorized API) can never name it.
 */
export type ViewerFunctionName = 'viewer';

/**
 * A route of the public viewer API: no authorizer, GET only. An iframe navigation and the
 * `<script>`/`<link>` loads it triggers carry no Authorization header, and what these routes
 * return holds no data (an HTML shell and the viewer bundle); every data call of the viewer goes
 * to the Cognito-authorized API with an identity-bound embed session.
 */
export interface PublicRoute {
  readonly method: 'GET';
  /** API Gateway resource path of the viewer API, with `{param}` segments; equals `event.resource`. */
  readonly path: string;
  readonly function: ViewerFunctionName;
  readonly summary: string;
}

/** The public viewer API (`ViewerRestApi`): the embed page and the viewer bundle files, nothing else. */
export const VIEWER_ROUTES: readonly PublicRoute[] = [
  {
    method: 'GET',
    path: '/embed/{tenantId}/{embedId}',
    function: 'viewer',
    summary: 'The embed viewer page, framable only by the embed allowed origins',
  },
  {
    method: 'GET',
    path: '/assets/viewer/{file}',
    function: 'viewer',
    summary: 'A file of the viewer bundle (script, stylesheet)',
  },
];
