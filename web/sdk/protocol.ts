/**
 * The postMessage protocol between a host app (through the SDK) and the embed viewer iframe.
 * Every message is a plain object `{ protocol: 'secure-embed/1', type, ... }`; both sides drop
 * anything that does not parse here, in addition to their origin and source checks.
 * Documented in docs/embed-protocol.md; a breaking change bumps the protocol version.
 */

/** Protocol identifier carried by every message. */
export const EMBED_PROTOCOL = 'secure-embed/1';

/** Upper bound for any token carried in a message: larger values are refused unread. */
export const MAX_TOKEN_LENGTH = 16_384;

/** The viewer is loaded and waits for `auth`. Sent again after a reload of the frame. */
export interface ReadyMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'ready';
}

/** The API refused the ID token (expired); the host should answer with a fresh `auth`. */
export interface AuthRequestMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'auth-request';
}

/** The viewer needs a fresh embed token: to renew its session, or because its URL carried none. */
export interface TokenRequestMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'token-request';
  readonly reason: 'renew' | 'initial';
}

/** The viewer's content height in CSS pixels. */
export interface ResizeMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'resize';
  readonly height: number;
}

/** The dashboard is displayed. */
export interface RenderedMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'rendered';
}

/** The viewer shows an error (its `code` is the API error code or a viewer code). */
export interface ErrorMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
}

/** Messages the viewer sends to the host. */
export type ViewerMessage =
  | ReadyMessage
  | AuthRequestMessage
  | TokenRequestMessage
  | ResizeMessage
  | RenderedMessage
  | ErrorMessage;

/** The viewer's Cognito ID token, the API credential. */
export interface AuthMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'auth';
  readonly idToken: string;
}

/** A fresh embed token, in answer to `token-request`. */
export interface TokenMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'token';
  readonly token: string;
}

/** The host could not obtain an embed token; the viewer stops waiting and shows the error. */
export interface TokenErrorMessage {
  readonly protocol: typeof EMBED_PROTOCOL;
  readonly type: 'token-error';
  readonly code: string;
  readonly message: string;
}

/** Messages the host sends to the viewer. */
export type HostMessage = AuthMessage | TokenMessage | TokenErrorMessage;

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isToken(value: unknown): value is string {
  // Compact JWS and Cognito JWTs are base64url segments joined by dots: nothing else is accepted.
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TOKEN_LENGTH && /^[\w.-]+$/.test(value);
}

function isShortText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** Parses a message received by the host; `undefined` for anything that is not a valid viewer message. */
export function parseViewerMessage(data: unknown): ViewerMessage | undefined {
  if (!isRecord(data) || data.protocol !== EMBED_PROTOCOL) return undefined;
  switch (data.type) {
    case 'ready':
    case 'auth-request':
    case 'rendered':
      return { protocol: EMBED_PROTOCOL, type: data.type };
    case 'token-request':
      return data.reason === 'renew' || data.reason === 'initial'
        ? { protocol: EMBED_PROTOCOL, type: 'token-request', reason: data.reason }
        : undefined;
    case 'resize':
      return typeof data.height === 'number' && Number.isFinite(data.height) && data.height >= 0
        ? { protocol: EMBED_PROTOCOL, type: 'resize', height: data.height }
        : undefined;
    case 'error':
      return isShortText(data.code, 100) && /^[A-Z0-9_]+$/.test(data.code) && isShortText(data.message, 500)
        ? { protocol: EMBED_PROTOCOL, type: 'error', code: data.code, message: data.message }
        : undefined;
    default:
      return undefined;
  }
}

/** Parses a message received by the viewer; `undefined` for anything that is not a valid host message. */
export function parseHostMessage(data: unknown): HostMessage | undefined {
  if (!isRecord(data) || data.protocol !== EMBED_PROTOCOL) return undefined;
  switch (data.type) {
    case 'auth':
      return isToken(data.idToken) ? { protocol: EMBED_PROTOCOL, type: 'auth', idToken: data.idToken } : undefined;
    case 'token':
      return isToken(data.token) ? { protocol: EMBED_PROTOCOL, type: 'token', token: data.token } : undefined;
    case 'token-error':
      return isShortText(data.code, 100) && /^[A-Z0-9_]+$/.test(data.code) && isShortText(data.message, 500)
        ? { protocol: EMBED_PROTOCOL, type: 'token-error', code: data.code, message: data.message }
        : undefined;
    default:
      return undefined;
  }
}
