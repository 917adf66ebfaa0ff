import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { EmbedPageState } from '#viewer/embed-page-state';
import { createCspNonce, renderViewerPage } from '#viewer/render-viewer-page';
import { findViewerAsset, VIEWER_ASSET_CACHE_CONTROL, type ViewerAssets } from '#viewer/viewer-assets';
import type { Logger } from './observability.ts';

/** Route keys of `VIEWER_ROUTES` (lib/routes.ts), as the viewer function dispatches on them. */
export const VIEWER_PAGE_ROUTE = 'GET /embed/{tenantId}/{embedId}';
export const VIEWER_ASSET_ROUTE = 'GET /assets/viewer/{file}';

export interface ViewerHandlerOptions {
  readonly logger: Logger;
  /** Absolute base URL of the authorized API the viewer calls. */
  readonly apiBaseUrl: string;
  /** Absolute base URL of the viewer bundle, e.g. `<viewer base>/assets/viewer`. */
  readonly assetBaseUrl: string;
  readonly embedPageState: (tenantId: string, embedId: string) => Promise<EmbedPageState>;
  readonly assets: ViewerAssets;
}

/** On every viewer response: HTTPS only, never sniffed. */
const COMMON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
});

/** Answers that are not the viewer page: plain text, not framable, not cached, nothing echoed. */
function plainResponse(statusCode: number, text: string, requestId: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      ...COMMON_HEADERS,
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
      'x-request-id': requestId,
    },
    body: text,
  };
}

/**
 * The Lambda handler of the public viewer API (REST proxy events, no authorizer): the embed page
 * with the embed's own `frame-ancestors`, and the viewer bundle files from a fixed allowlist.
 * Failures become a generic answer; details go to the log only.
 */
export function createViewerHandler(options: ViewerHandlerOptions) {
  return async (event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    const routeKey = `${event.httpMethod} ${event.resource}`;
    const params = event.pathParameters ?? {};
    try {
      if (routeKey === VIEWER_PAGE_ROUTE) {
        const tenantId = params.tenantId ?? '';
        const embedId = params.embedId ?? '';
        const found = await options.embedPageState(tenantId, embedId);
        const page = renderViewerPage({
          embedId: found.state === 'not-found' ? '' : embedId,
          allowedOrigins: found.allowedOrigins,
          apiBaseUrl: options.apiBaseUrl,
          assetBaseUrl: options.assetBaseUrl,
          nonce: createCspNonce(),
          state: found.state,
        });
        return {
          statusCode: page.status,
          headers: { ...COMMON_HEADERS, ...page.headers, 'x-request-id': requestId },
          body: page.body,
        };
      }
      if (routeKey === VIEWER_ASSET_ROUTE) {
        const asset = findViewerAsset(options.assets, params.file);
        if (!asset) return plainResponse(404, 'Not found.', requestId);
        return {
          statusCode: 200,
          headers: {
            ...COMMON_HEADERS,
            'Content-Type': asset.contentType,
            'Cache-Control': VIEWER_ASSET_CACHE_CONTROL,
            // Loaded by the viewer page of this origin only.
            'Cross-Origin-Resource-Policy': 'same-origin',
            'x-request-id': requestId,
          },
          body: asset.body.toString('utf8'),
        };
      }
      return plainResponse(404, 'Not found.', requestId);
    } catch (error) {
      options.logger.error('viewer request failed', { routeKey, requestId, error: error as Error });
      return plainResponse(500, 'This dashboard is temporarily unavailable.', requestId);
    }
  };
}
