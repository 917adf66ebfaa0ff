/**
 * What the viewer tells a person for each error code. The code itself stays visible to tests and
 * to the host (`data-error-code`, the `error` message); the words are written for the viewer.
 */

import type { ErrorCode } from '../../functions/shared/errors.ts';

/** Codes only the viewer itself produces (network, host and page failures); the API's are `ErrorCode`. */
export type ViewerErrorCode =
  | 'EMBED_TOKEN_MISSING'
  | 'EMBED_NOT_FRAMED'
  | 'EMBED_AUTH_TIMEOUT'
  | 'NETWORK_ERROR'
  | 'HOST_EMBED_TOKEN_FAILED'
  | 'HOST_TIMEOUT'
  | 'VIEWER_CONFIG_INVALID'
  | 'RESPONSE_INVALID';

export interface ErrorDescription {
  readonly title: string;
  readonly detail: string;
  /** Whether "Try again" can help (transient failures only). */
  readonly retryable: boolean;
}

const GENERIC_INVALID: ErrorDescription = {
  title: 'This dashboard link is not valid.',
  detail: 'Reload the page to get a new link.',
  retryable: false,
};

const SERVICE_TROUBLE: ErrorDescription = {
  title: 'The dashboard service is having trouble.',
  detail: 'Please try again in a moment.',
  retryable: true,
};

const PARAMETER: ErrorDescription = {
  title: 'That filter value is not allowed.',
  detail: 'Choose another value.',
  retryable: false,
};

/**
 * Keyed by the API's `ErrorCode` union and the viewer's own codes: a renamed or misspelt code is a
 * type error here, not a silent fallback to a generic message.
 */
const DESCRIPTIONS: Readonly<Partial<Record<ErrorCode | ViewerErrorCode, ErrorDescription>>> = {
  EMBED_TOKEN_EXPIRED: {
    title: 'This dashboard link has expired.',
    detail: 'Reload the page to get a new link.',
    retryable: false,
  },
  EMBED_TOKEN_REVOKED: {
    title: 'Access to this dashboard has been revoked.',
    detail: 'Ask the owner of the app if you think this is a mistake.',
    retryable: false,
  },
  EMBED_TOKEN_IDENTITY_MISMATCH: {
    title: 'This dashboard was not issued to you.',
    detail: 'Dashboard links are personal. Open the dashboard from your own account.',
    retryable: false,
  },
  EMBED_TOKEN_ALREADY_REDEEMED: {
    title: 'This dashboard link has already been used.',
    detail: 'Each link opens the dashboard once. Reload the page to get a new one.',
    retryable: false,
  },
  EMBED_TOKEN_MISSING: {
    title: 'This dashboard link is incomplete.',
    detail: 'The link carries no access token. Reload the page to get a new link.',
    retryable: false,
  },
  EMBED_DISABLED: {
    title: 'This dashboard has been disabled by its owner.',
    detail: 'It cannot be shown right now.',
    retryable: false,
  },
  EMBED_SESSION_INVALID: {
    title: 'Your dashboard session has ended.',
    detail: 'Reload the page to continue.',
    retryable: false,
  },
  EMBED_NOT_FRAMED: {
    title: 'This dashboard can only be shown inside its app.',
    detail: 'Open it from the application that embeds it.',
    retryable: false,
  },
  EMBED_AUTH_TIMEOUT: {
    title: 'The app did not sign you in to this dashboard.',
    detail: 'Reload the page. If this keeps happening, sign out and in again.',
    retryable: false,
  },
  UNAUTHENTICATED: {
    title: 'You are signed out.',
    detail: 'Sign in again to view this dashboard.',
    retryable: false,
  },
  FORBIDDEN: {
    title: 'You are not allowed to view this dashboard.',
    detail: 'Ask the owner of the app for access.',
    retryable: false,
  },
  NOT_FOUND: {
    title: 'This dashboard was not found.',
    detail: 'It may have been removed.',
    retryable: false,
  },
  NETWORK_ERROR: {
    title: 'The dashboard service cannot be reached.',
    detail: 'Check your connection and try again.',
    retryable: true,
  },
  HOST_EMBED_TOKEN_FAILED: {
    title: 'The app could not renew your access to this dashboard.',
    detail: 'Reload the page to continue.',
    retryable: false,
  },
  VIEWER_CONFIG_INVALID: {
    title: 'This dashboard page is misconfigured.',
    detail: 'Please contact the owner of the app.',
    retryable: false,
  },
  RATE_LIMITED: { ...SERVICE_TROUBLE, title: 'Too many requests.' },
  INTERNAL_ERROR: SERVICE_TROUBLE,
  DEPENDENCY_UNAVAILABLE: SERVICE_TROUBLE,
  RESPONSE_INVALID: SERVICE_TROUBLE,
  QUERY_INVALID: {
    title: 'This dashboard could not be loaded.',
    detail: 'Its configuration is invalid.',
    retryable: false,
  },
  QUERY_TOO_LARGE: {
    title: 'These filters match too much data.',
    detail: 'Narrow the filters and try again.',
    retryable: false,
  },
};

/** Describes an error code; unknown `EMBED_TOKEN_*` and `PARAM_*` codes fall back to their family. */
export function describeError(code: string): ErrorDescription {
  const known = (DESCRIPTIONS as Readonly<Record<string, ErrorDescription | undefined>>)[code];
  if (known) return known;
  if (code.startsWith('EMBED_TOKEN_')) return GENERIC_INVALID;
  if (code.startsWith('PARAM_') || code === 'VALIDATION_FAILED') return PARAMETER;
  return SERVICE_TROUBLE;
}

/** Parameter errors are shown next to the filters; the dashboard stays usable. */
export function isParameterError(code: string): boolean {
  return code.startsWith('PARAM_') || code === 'VALIDATION_FAILED' || code === 'QUERY_TOO_LARGE';
}

/** Failures worth retrying later without user action (renewal keeps trying until expiry). */
export function isTransientError(code: string): boolean {
  return describeError(code).retryable || code === 'HOST_EMBED_TOKEN_FAILED' || code === 'HOST_TIMEOUT';
}
