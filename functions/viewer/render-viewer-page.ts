import { randomBytes } from 'node:crypto';

/**
 * Server-side rendering of the embed viewer page (`GET /embed/{tenantId}/{embedId}`, served by `functions/handlers/viewer.ts`): a minimal HTML shell
 * that loads the viewer bundle, plus the headers that make it safe to frame. Pure domain code:
 * the Lambda handler and the local gateway both call `renderViewerPage` with the embed's state,
 * so the page and its Content-Security-Policy are identical locally and deployed.
 *
 * The page never contains dashboard data or tokens; the viewer fetches everything after the host
 * app has authenticated it over postMessage.
 */

/** The files of the viewer bundle, relative to `assetBaseUrl`. */
export const VIEWER_ASSETS = { script: 'viewer.js', style: 'viewer.css' } as const;

/** Embed ids accepted in the path; anything else is answered as "not found" without echoing it. */
export const EMBED_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** What the caller found when it looked the embed up. */
export type ViewerEmbedState = 'active' | 'disabled' | 'not-found';

export interface RenderViewerPageInput {
  /** The embed id from the path; validated here again because it is echoed into the page. */
  readonly embedId: string;
  /** The embed's allowed host origins; only exact `scheme://host[:port]` entries are used. */
  readonly allowedOrigins: readonly string[];
  /** Base URL of the API (`POST {apiBaseUrl}/v1/embed/sessions` …); absolute http(s). */
  readonly apiBaseUrl: string;
  /** Where `viewer.js` and `viewer.css` are served: an absolute http(s) URL or an absolute path. */
  readonly assetBaseUrl: string;
  /** Per-response CSP nonce (see `createCspNonce`); without one, scripts are allowed by asset origin. */
  readonly nonce?: string;
  /** Default `active`. A disabled or unknown embed gets an error page that never loads data. */
  readonly state?: ViewerEmbedState;
}

export interface RenderedViewerPage {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The JSON the viewer reads from `<script type="application/json" id="embed-config">`. */
export interface ViewerPageConfig {
  readonly embedId: string;
  readonly apiBaseUrl: string;
  readonly allowedOrigins: readonly string[];
  /** Present on error pages: the viewer reports it to the host instead of redeeming a token. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** A fresh 128-bit nonce for one response's `script-src 'nonce-…'`. */
export function createCspNonce(): string {
  return randomBytes(16).toString('base64');
}

const NONCE_PATTERN = /^[A-Za-z0-9+/_-]{16,128}={0,2}$/;

/*
 * An origin as CSP `frame-ancestors` and postMessage compare it: scheme, host and optional port,
 * nothing else. The host part is restricted to DNS labels, IPv4 and bracketed IPv6 so that no CSP
 * syntax (`*`, `;`, `,`, quotes, whitespace) can ever reach the header through an embed's config.
 */
const ORIGIN_PATTERN =
  /^https?:\/\/(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::\d{1,5})?$/;

/**
 * Normalises one allowed origin, or returns `undefined` when it is not an exact origin
 * (wildcards, paths, queries, credentials, non-http schemes such as `javascript:` are refused).
 */
export function normalizeOrigin(candidate: unknown): string | undefined {
  if (typeof candidate !== 'string' || candidate.length > 300) return undefined;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  // Nothing may follow the authority: no path (not even "/"), query, fragment or userinfo.
  const authority = candidate.slice(candidate.indexOf('//') + 2);
  if (!candidate.includes('//') || /[/?#@\\]/.test(authority)) return undefined;
  return ORIGIN_PATTERN.test(url.origin) ? url.origin : undefined;
}

/** Splits an embed's configured origins into the usable (normalised, de-duplicated) and the refused. */
export function parseAllowedOrigins(candidates: readonly unknown[]): { valid: string[]; rejected: unknown[] } {
  const valid: string[] = [];
  const rejected: unknown[] = [];
  for (const candidate of candidates) {
    const origin = normalizeOrigin(candidate);
    if (origin === undefined) rejected.push(candidate);
    else if (!valid.includes(origin)) valid.push(origin);
  }
  return { valid, rejected };
}

/** The API base URL without a trailing slash; must be absolute http(s) without query or fragment. */
function normalizeApiBaseUrl(value: string): { base: string; origin: string } {
  const url = parseHttpUrl(value, 'apiBaseUrl');
  return { base: url.href.replace(/\/+$/, ''), origin: url.origin };
}

/** The asset base as used in `src`/`href`, and the CSP source that allows it. */
function normalizeAssetBaseUrl(value: string): { base: string; source: string } {
  if (value.startsWith('/') && !value.startsWith('//')) {
    if (!/^\/[A-Za-z0-9._~/-]*$/.test(value)) throw new TypeError('assetBaseUrl path has unsupported characters');
    return { base: value.replace(/\/+$/, ''), source: "'self'" };
  }
  const url = parseHttpUrl(value, 'assetBaseUrl');
  return { base: url.href.replace(/\/+$/, ''), source: url.origin };
}

function parseHttpUrl(value: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new TypeError(`${name} must be an absolute URL`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name} must use http or https`);
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError(`${name} must not carry credentials, a query or a fragment`);
  }
  if (!ORIGIN_PATTERN.test(url.origin)) throw new TypeError(`${name} has an unsupported host`);
  return url;
}

/** Escapes text for an HTML text node or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that is inert inside a `<script>` element: `<`, `>` and `&` cannot close the element or
 * open a comment, and U+2028/U+2029 cannot break older parsers.
 */
export function serializeJsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The Content-Security-Policy of the viewer page. */
export function viewerContentSecurityPolicy(input: {
  allowedOrigins: readonly string[];
  apiOrigin: string;
  assetSource: string;
  nonce?: string;
  loadsScript: boolean;
}): string {
  const scriptSource = !input.loadsScript ? "'none'" : input.nonce ? `'nonce-${input.nonce}'` : input.assetSource;
  const frameAncestors = input.allowedOrigins.length > 0 ? input.allowedOrigins.join(' ') : "'none'";
  return [
    "default-src 'none'",
    `script-src ${scriptSource}`,
    `style-src ${input.assetSource}`,
    `connect-src ${input.loadsScript ? input.apiOrigin : "'none'"}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

const ERROR_PAGES: Record<Exclude<ViewerEmbedState, 'active'>, { status: number; code: string; message: string }> = {
  disabled: { status: 403, code: 'EMBED_DISABLED', message: 'This dashboard has been disabled by its owner.' },
  'not-found': { status: 404, code: 'NOT_FOUND', message: 'This dashboard was not found.' },
};

/**
 * Renders the viewer page for one embed. An invalid embed id, an unknown embed or a disabled one
 * yields an error page with no data; an unknown embed is also not frameable (no origins known).
 * Throws `TypeError` only for a misconfigured caller (bad `apiBaseUrl`, `assetBaseUrl` or nonce).
 */
export function renderViewerPage(input: RenderViewerPageInput): RenderedViewerPage {
  const api = normalizeApiBaseUrl(input.apiBaseUrl);
  const assets = normalizeAssetBaseUrl(input.assetBaseUrl);
  if (input.nonce !== undefined && !NONCE_PATTERN.test(input.nonce)) {
    throw new TypeError('nonce must be base64 of at least 96 bits');
  }

  const idValid = EMBED_ID_PATTERN.test(input.embedId);
  const state: ViewerEmbedState = idValid ? (input.state ?? 'active') : 'not-found';
  // Nothing about an unknown embed may be echoed or framed, so it gets neither origins nor script.
  const allowedOrigins = state === 'not-found' ? [] : parseAllowedOrigins(input.allowedOrigins).valid;
  const errorPage = state === 'active' ? undefined : ERROR_PAGES[state];
  const loadsScript = state !== 'not-found';

  const csp = viewerContentSecurityPolicy({
    allowedOrigins,
    apiOrigin: api.origin,
    assetSource: assets.source,
    loadsScript,
    ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
  });

  const config: ViewerPageConfig = {
    embedId: idValid ? input.embedId : '',
    apiBaseUrl: api.base,
    allowedOrigins,
    ...(errorPage ? { error: { code: errorPage.code, message: errorPage.message } } : {}),
  };

  const nonceAttribute = input.nonce === undefined ? '' : ` nonce="${escapeHtml(input.nonce)}"`;
  const scriptTags = loadsScript
    ? `<script type="application/json" id="embed-config">${serializeJsonForScript(config)}</script>\n` +
      `<script type="module" src="${escapeHtml(`${assets.base}/${VIEWER_ASSETS.script}`)}"${nonceAttribute}></script>\n`
    : '';
  const content = errorPage
    ? `<div class="state state-error" data-testid="error" data-error-code="${escapeHtml(errorPage.code)}" role="alert">` +
      `<p class="state-title">${escapeHtml(errorPage.message)}</p></div>`
    : '<div class="state state-loading" data-testid="loading" role="status"><span class="spinner" aria-hidden="true"></span>' +
      '<p class="state-title">Loading dashboard…</p></div>';

  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Dashboard</title>
<link rel="stylesheet" href="${escapeHtml(`${assets.base}/${VIEWER_ASSETS.style}`)}">
${scriptTags}</head>
<body data-state="${errorPage ? 'error' : 'loading'}">
<main id="embed-root" aria-live="polite">${content}</main>
<noscript><p class="state-title">This dashboard needs JavaScript.</p></noscript>
</body>
</html>
`;

  return {
    status: errorPage ? errorPage.status : 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      // The URL carried the token in its fragment; no request from this page may reveal where it came from.
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    },
    body,
  };
}
