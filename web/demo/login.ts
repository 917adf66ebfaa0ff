/**
 * Demo login page: username/password against the local dev server's `POST /demo-auth/login`,
 * which runs Cognito USER_PASSWORD_AUTH against cognito-local and answers
 * `{ idToken, accessToken, expiresIn }` or `{ code, message }`.
 */
import { loadTokens, readApiError, saveTokens } from './session.ts';

const form = document.getElementById('login-form') as HTMLFormElement;
const errorBox = document.getElementById('login-error') as HTMLElement;
const submit = form.querySelector('button[type="submit"]') as HTMLButtonElement;

function showError(message: string): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

async function login(username: string, password: string): Promise<void> {
  const response = await fetch('/demo-auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
    cache: 'no-store',
  });
  if (!response.ok) {
    const { message } = await readApiError(response);
    throw new Error(message);
  }
  const body = (await response.json()) as { idToken?: unknown; accessToken?: unknown; expiresIn?: unknown };
  if (typeof body.idToken !== 'string' || typeof body.accessToken !== 'string') {
    throw new Error('The sign-in service sent an unexpected answer.');
  }
  const expiresIn = typeof body.expiresIn === 'number' && body.expiresIn > 0 ? body.expiresIn : 3600;
  saveTokens({ idToken: body.idToken, accessToken: body.accessToken, expiresAt: Date.now() + expiresIn * 1000 });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const username = String(data.get('username') ?? '').trim();
  const password = String(data.get('password') ?? '');
  if (!username || !password) {
    showError('Enter your username and password.');
    return;
  }
  errorBox.hidden = true;
  submit.disabled = true;
  login(username, password)
    .then(() => window.location.assign('./dashboard.html'))
    .catch((error: unknown) => {
      showError(error instanceof Error ? error.message : 'Sign-in failed.');
      submit.disabled = false;
    });
});

// Already signed in (same tab): go straight to the dashboard.
if (loadTokens()) window.location.replace('./dashboard.html');
