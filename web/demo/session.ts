/**
 * Demo-only plumbing shared by the two demo pages: configuration and the signed-in user's tokens.
 * Tokens sit in sessionStorage because this is a demo; a real host app keeps them wherever its
 * own authentication library does.
 */

/** Served by the dev server as `GET /demo/config.json` or inlined as `#demo-config`. */
export interface DemoConfig {
  /** Base URL of the embed API, e.g. `http://localhost:3000`. */
  readonly apiBaseUrl: string;
  /** The embed this demo shows. */
  readonly embedId: string;
  /** Informational: which user pool the demo logs in against. */
  readonly cognito?: { readonly userPoolId?: string; readonly clientId?: string; readonly endpoint?: string };
}

export interface DemoTokens {
  readonly idToken: string;
  readonly accessToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

const STORAGE_KEY = 'secure-embed-demo.tokens';

/** Reads the inline config block if the server rendered one, else fetches `config.json` next to the page. */
export async function loadDemoConfig(): Promise<DemoConfig> {
  const inline = document.getElementById('demo-config')?.textContent;
  const raw: unknown = inline
    ? JSON.parse(inline)
    : await fetch(new URL('config.json', window.location.href), { cache: 'no-store' }).then((response) => {
        if (!response.ok) throw new Error(`config.json answered ${response.status}`);
        return response.json();
      });
  const config = raw as Partial<DemoConfig> | null;
  if (!config || typeof config.apiBaseUrl !== 'string' || typeof config.embedId !== 'string') {
    throw new Error('The demo configuration needs apiBaseUrl and embedId.');
  }
  return { ...config, apiBaseUrl: config.apiBaseUrl.replace(/\/+$/, '') } as DemoConfig;
}

export function saveTokens(tokens: DemoTokens): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
}

/** The stored tokens, or `undefined` when absent or expired. */
export function loadTokens(now = Date.now()): DemoTokens | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<DemoTokens> | null;
    if (!value || typeof value.idToken !== 'string' || typeof value.expiresAt !== 'number') return undefined;
    return value.expiresAt > now ? (value as DemoTokens) : undefined;
  } catch {
    return undefined;
  }
}

export function clearTokens(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * Claims of a JWT for display only (user name, tenant). Never used for a decision: the API
 * verifies the token; the demo just shows who is signed in.
 */
export function displayClaims(jwt: string): Record<string, unknown> {
  try {
    const payload = jwt.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** `{ code, message }` from an error response body, with a fallback. */
export async function readApiError(response: Response): Promise<{ code: string; message: string }> {
  try {
    const body = (await response.json()) as { code?: unknown; message?: unknown };
    return {
      code: typeof body.code === 'string' ? body.code : `HTTP_${response.status}`,
      message: typeof body.message === 'string' ? body.message : `The server answered ${response.status}.`,
    };
  } catch {
    return { code: `HTTP_${response.status}`, message: `The server answered ${response.status}.` };
  }
}
