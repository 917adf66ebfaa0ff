import { fileURLToPath } from 'node:url';
import { ConfigInvalid } from '#errors';
import { EmbedRepository } from '#control/embeds';
import { TableGateway } from '#control/table-gateway';
import { documentClient } from '#shared/clients';
import { optionalEnv, requireEnv } from '#shared/config';
import { createLogger } from '#http/observability';
import { createViewerHandler } from '#http/viewer-handler';
import { createEmbedPageStateLookup } from '#viewer/embed-page-state';
import { loadViewerAssets, type ViewerAssets } from '#viewer/viewer-assets';

/**
 * GET /embed/{tenantId}/{embedId} and GET /assets/viewer/{file} on the PUBLIC viewer API: the page
 * a host app frames and the viewer bundle it loads. No identity here and no data: the page only
 * needs the embed's enabled flag and allowed origins (control table, GetItem only).
 */

const config = {
  controlTable: requireEnv('CONTROL_TABLE_NAME'),
  apiBaseUrl: httpUrlEnv('API_BASE_URL'),
  viewerBaseUrl: httpUrlEnv('VIEWER_BASE_URL'),
  // In Lambda the bundling step copies the files into `viewer/` next to this module (the stack
  // sets no VIEWER_ASSETS_DIR); tests and local runs point it at a web build's `viewer/` directory.
  assetsDir: optionalEnv('VIEWER_ASSETS_DIR', fileURLToPath(new URL('./viewer/', import.meta.url))),
};

const logger = createLogger('viewer');
const embeds = new EmbedRepository(new TableGateway(documentClient(), config.controlTable));

let assets: ViewerAssets;
try {
  assets = loadViewerAssets(config.assetsDir);
} catch (error) {
  // The page still answers (and says so in the log); only asset requests get 404s.
  logger.error('viewer bundle not found; asset requests will be answered 404', { error: error as Error });
  assets = new Map();
}

export const handler = createViewerHandler({
  logger,
  apiBaseUrl: config.apiBaseUrl,
  assetBaseUrl: `${config.viewerBaseUrl}/assets/viewer`,
  embedPageState: createEmbedPageStateLookup({ getEmbed: (tenantId, embedId) => embeds.get(tenantId, embedId) }),
  assets,
});

/** An absolute http(s) URL without a trailing slash; the function refuses to start otherwise. */
function httpUrlEnv(name: string): string {
  const value = requireEnv(name).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigInvalid(`Environment variable ${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigInvalid(`Environment variable ${name} must be an http(s) URL`);
  }
  return value;
}
