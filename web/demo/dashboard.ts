/**
 * Demo dashboard page: asks our API for an embed URL for the signed-in user and embeds it with
 * the SDK. It shows the URL in the frame and lets a user paste another URL, to demonstrate that a
 * URL issued to someone else is refused by the viewer ("not issued to you").
 */
import { type EmbeddedDashboard, embedDashboard } from '../sdk/index.ts';
import { type DemoConfig, clearTokens, displayClaims, loadDemoConfig, loadTokens, readApiError } from './session.ts';

interface EmbedTokenResponse {
  readonly token: string;
  readonly expiresAt: unknown;
  readonly embedUrl: string;
}

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const currentUrl = byId<HTMLInputElement>('current-url');
const spareUrl = byId<HTMLInputElement>('spare-url');
const pasteForm = byId<HTMLFormElement>('paste-form');
const pasteUrl = byId<HTMLInputElement>('paste-url');
const statusLine = byId<HTMLElement>('status');
const container = byId<HTMLElement>('dashboard');

function setStatus(message: string, isError = false): void {
  statusLine.textContent = message;
  statusLine.classList.toggle('is-error', isError);
}

function signedInIdToken(): string {
  const tokens = loadTokens();
  if (!tokens) {
    window.location.replace('./index.html');
    throw new Error('Signed out.');
  }
  return tokens.idToken;
}

/** `POST /v1/embed-tokens` for the signed-in user: the API binds the token to this user's identity. */
async function requestEmbedToken(config: DemoConfig): Promise<EmbedTokenResponse> {
  const response = await fetch(`${config.apiBaseUrl}/v1/embed-tokens`, {
    method: 'POST',
    headers: { Authorization: signedInIdToken(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ embedId: config.embedId }),
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
  });
  if (!response.ok) {
    const { code, message } = await readApiError(response);
    throw new Error(`${code}: ${message}`);
  }
  const body = (await response.json()) as Partial<EmbedTokenResponse>;
  if (typeof body.token !== 'string' || typeof body.embedUrl !== 'string') {
    throw new Error('The API sent an unexpected embed-token answer.');
  }
  return body as EmbedTokenResponse;
}

async function copy(input: HTMLInputElement): Promise<void> {
  if (!input.value) return;
  try {
    await navigator.clipboard.writeText(input.value);
    setStatus('Copied to the clipboard.');
  } catch {
    // Clipboard access can be denied (e.g. plain http); selecting lets the user copy by hand.
    input.select();
    setStatus('Press Ctrl+C (⌘C) to copy the selected URL.');
  }
}

function start(config: DemoConfig): void {
  let embedded: EmbeddedDashboard | undefined;

  const mount = (embedUrl: string): void => {
    embedded?.destroy();
    embedded = undefined;
    currentUrl.value = embedUrl;
    setStatus('Loading the dashboard…');
    try {
      embedded = embedDashboard({
        container,
        embedUrl,
        title: 'Sales dashboard',
        getAccessToken: signedInIdToken,
        fetchEmbedToken: async () => (await requestEmbedToken(config)).token,
        onReady: () => setStatus('Dashboard loaded.'),
        onError: ({ code, message }) => setStatus(`${code}: ${message}`, true),
      });
    } catch (error) {
      setStatus(error instanceof Error ? error.message : 'This URL cannot be embedded.', true);
    }
  };

  byId<HTMLButtonElement>('copy-url').addEventListener('click', () => void copy(currentUrl));
  byId<HTMLButtonElement>('copy-spare').addEventListener('click', () => void copy(spareUrl));
  byId<HTMLButtonElement>('mint-url').addEventListener('click', () => {
    requestEmbedToken(config)
      .then(({ embedUrl }) => {
        spareUrl.value = embedUrl;
        setStatus('A fresh URL for you, not opened yet. Try it in another user’s session.');
      })
      .catch((error: unknown) => setStatus(error instanceof Error ? error.message : 'Request failed.', true));
  });
  pasteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = pasteUrl.value.trim();
    if (!value) return;
    mount(value);
  });
  byId<HTMLButtonElement>('logout').addEventListener('click', () => {
    embedded?.destroy();
    clearTokens();
    window.location.replace('./index.html');
  });

  requestEmbedToken(config)
    .then(({ embedUrl }) => mount(embedUrl))
    .catch((error: unknown) => setStatus(error instanceof Error ? error.message : 'Request failed.', true));
}

const tokens = loadTokens();
if (!tokens) {
  window.location.replace('./index.html');
} else {
  const claims = displayClaims(tokens.idToken);
  const name = claims['cognito:username'] ?? claims.email ?? claims.sub;
  const tenant = claims['custom:tenant_id'];
  byId<HTMLElement>('user').textContent =
    typeof name === 'string' ? `${name}${typeof tenant === 'string' ? ` · ${tenant}` : ''}` : '';
  loadDemoConfig()
    .then(start)
    .catch((error: unknown) => setStatus(error instanceof Error ? error.message : 'No demo configuration.', true));
}
