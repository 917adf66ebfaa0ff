/**
 * Embed SDK: puts a dashboard into a host page and runs the host side of the postMessage
 * protocol (docs/embed-protocol.md). Only messages from the viewer's origin AND from the iframe's
 * own window are handled, and the host posts only with `targetOrigin` set to the viewer's origin,
 * so neither the ID token nor embed tokens can reach another frame or window.
 */
import {
  EMBED_PROTOCOL,
  type HostMessage,
  MAX_TOKEN_LENGTH,
  parseViewerMessage,
  type ViewerMessage,
} from './protocol.ts';

export { EMBED_PROTOCOL } from './protocol.ts';
export type { HostMessage, ViewerMessage } from './protocol.ts';

/** An error reported to `onError`: a viewer/API code or one of the SDK's own `HOST_*` codes. */
export interface EmbedErrorInfo {
  readonly code: string;
  readonly message: string;
}

export interface EmbedDashboardOptions {
  /** Element the iframe is appended to. */
  readonly container: HTMLElement;
  /** `embedUrl` from `POST /v1/embed-tokens`: the token travels only in its `#token=` fragment. */
  readonly embedUrl: string;
  /** Returns the signed-in user's Cognito ID token (the API credential); called on every `ready`/`auth-request`. */
  readonly getAccessToken: () => string | Promise<string>;
  /** Returns a fresh embed token for this embed (from your back end); used for session renewal. */
  readonly fetchEmbedToken: () => string | Promise<string>;
  /** Called for every error the viewer shows and for failures of the two callbacks above. */
  readonly onError: (error: EmbedErrorInfo) => void;
  /** Called each time the dashboard has been rendered. */
  readonly onReady?: () => void;
  /** Lower bound of the iframe height in CSS pixels (default 240). */
  readonly minHeight?: number;
  /** Upper bound of the iframe height in CSS pixels (default 4000). */
  readonly maxHeight?: number;
  /** Accessible title of the iframe (default "Embedded dashboard"). */
  readonly title?: string;
}

export interface EmbeddedDashboard {
  readonly iframe: HTMLIFrameElement;
  /** Removes the message listener and the iframe; further messages are ignored. */
  destroy(): void;
  /** Sends a fresh ID token to the viewer now (e.g. after your app refreshed its Cognito tokens). */
  refreshAccessToken(): Promise<void>;
}

const DEFAULT_MIN_HEIGHT = 240;
const DEFAULT_MAX_HEIGHT = 4000;

/** Validates the embed URL: absolute http(s), and no token in its query string (it would leak into logs). */
function parseEmbedUrl(embedUrl: string): URL {
  let url: URL;
  try {
    url = new URL(embedUrl);
  } catch (cause) {
    throw new TypeError('embedUrl must be an absolute URL', { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('embedUrl must use http or https');
  if (url.searchParams.has('token')) {
    throw new TypeError('embedUrl carries a token in its query string; tokens belong in the #token= fragment');
  }
  return url;
}

function describe(error: unknown): string {
  return error instanceof Error && error.message ? error.message : 'unknown error';
}

/** Embeds a dashboard into `container` and starts the handshake with the viewer. */
export function embedDashboard(options: EmbedDashboardOptions): EmbeddedDashboard {
  const url = parseEmbedUrl(options.embedUrl);
  const viewerOrigin = url.origin;
  const minHeight = Math.max(0, options.minHeight ?? DEFAULT_MIN_HEIGHT);
  const maxHeight = Math.max(minHeight, options.maxHeight ?? DEFAULT_MAX_HEIGHT);

  const iframe = document.createElement('iframe');
  // allow-same-origin keeps the viewer on its own origin (needed for its API calls and CSP);
  // no top-navigation, popups or forms.
  iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin');
  iframe.setAttribute('referrerpolicy', 'no-referrer');
  iframe.title = options.title ?? 'Embedded dashboard';
  iframe.style.display = 'block';
  iframe.style.width = '100%';
  iframe.style.border = '0';
  iframe.style.height = `${minHeight}px`;

  let destroyed = false;

  const post = (message: HostMessage): void => {
    const target = iframe.contentWindow;
    if (destroyed || !target) return;
    // Never '*': if the frame has been navigated elsewhere the browser drops the message.
    target.postMessage(message, viewerOrigin);
  };

  const sendAuth = async (): Promise<void> => {
    let idToken: string;
    try {
      idToken = await options.getAccessToken();
    } catch (error) {
      options.onError({
        code: 'HOST_ACCESS_TOKEN_FAILED',
        message: `Could not get the access token: ${describe(error)}`,
      });
      return;
    }
    if (typeof idToken !== 'string' || idToken.length === 0 || idToken.length > MAX_TOKEN_LENGTH) {
      options.onError({ code: 'HOST_ACCESS_TOKEN_FAILED', message: 'getAccessToken did not return a token.' });
      return;
    }
    post({ protocol: EMBED_PROTOCOL, type: 'auth', idToken });
  };

  const sendEmbedToken = async (): Promise<void> => {
    try {
      const token = await options.fetchEmbedToken();
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new TypeError('fetchEmbedToken did not return a token');
      }
      post({ protocol: EMBED_PROTOCOL, type: 'token', token });
    } catch (error) {
      const message = `Could not get a new embed token: ${describe(error)}`;
      options.onError({ code: 'HOST_EMBED_TOKEN_FAILED', message });
      post({ protocol: EMBED_PROTOCOL, type: 'token-error', code: 'HOST_EMBED_TOKEN_FAILED', message });
    }
  };

  const handle = (message: ViewerMessage): void => {
    switch (message.type) {
      case 'ready':
      case 'auth-request':
        void sendAuth();
        return;
      case 'token-request':
        void sendEmbedToken();
        return;
      case 'resize':
        iframe.style.height = `${Math.round(Math.min(maxHeight, Math.max(minHeight, message.height)))}px`;
        return;
      case 'rendered':
        options.onReady?.();
        return;
      case 'error':
        options.onError({ code: message.code, message: message.message });
        return;
    }
  };

  const onMessage = (event: MessageEvent): void => {
    // Both checks: the origin alone would accept another frame of the same viewer origin.
    if (destroyed || event.origin !== viewerOrigin || event.source !== iframe.contentWindow) return;
    const message = parseViewerMessage(event.data);
    if (message) handle(message);
  };

  window.addEventListener('message', onMessage);
  // Listen before the iframe exists in the DOM so that the first `ready` cannot be missed.
  iframe.src = url.href;
  options.container.appendChild(iframe);

  return {
    iframe,
    destroy(): void {
      if (destroyed) return;
      destroyed = true;
      window.removeEventListener('message', onMessage);
      iframe.remove();
    },
    refreshAccessToken: sendAuth,
  };
}
