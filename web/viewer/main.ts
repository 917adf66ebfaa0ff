/**
 * Embed viewer entry point. Sequence (docs/embed-protocol.md):
 * take the token out of the URL fragment → announce `ready` to the host → receive the viewer's ID
 * token over postMessage → redeem the embed token once → render → query on filter changes →
 * renew the session with a fresh embed token before it expires.
 */
import { ApiError, EmbedApi, type QueryResult, type SessionResponse } from './api.ts';
import { HostBridge } from './bridge.ts';
import { describeError, isParameterError, isTransientError } from './errors.ts';
import { DashboardView, ViewerScreen } from './screen.ts';

/** Renew this long before the session expires, so a slow host still has time to answer. */
const RENEW_BEFORE_MS = 60_000;
/** Wait between renewal attempts after a transient failure. */
const RENEW_RETRY_MS = 15_000;
/** Filter changes within this window become one query. */
const QUERY_DEBOUNCE_MS = 300;
const MAX_TIMER_MS = 2_147_483_647;

interface ViewerConfig {
  readonly embedId: string;
  readonly apiBaseUrl: string;
  readonly allowedOrigins: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Reads `#token=` and removes the whole fragment from the URL and the session history entry at
 * once, before any other code runs, so the token cannot be bookmarked, copied or leaked later.
 */
function takeTokenFromFragment(): string | undefined {
  const hash = window.location.hash;
  if (!hash) return undefined;
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  const token = new URLSearchParams(hash.slice(1)).get('token');
  return token && /^[\w.-]{1,16384}$/.test(token) ? token : undefined;
}

function readConfig(): ViewerConfig | undefined {
  const text = document.getElementById('embed-config')?.textContent;
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const config = value as Record<string, unknown>;
  if (typeof config.apiBaseUrl !== 'string' || !Array.isArray(config.allowedOrigins)) return undefined;
  const error = config.error as { code?: unknown; message?: unknown } | undefined;
  return {
    embedId: typeof config.embedId === 'string' ? config.embedId : '',
    apiBaseUrl: config.apiBaseUrl,
    allowedOrigins: config.allowedOrigins.filter((origin): origin is string => typeof origin === 'string'),
    ...(error && typeof error.code === 'string' && typeof error.message === 'string'
      ? { error: { code: error.code, message: error.message } }
      : {}),
  };
}

function errorCode(error: unknown): string {
  return error instanceof ApiError ? error.code : 'INTERNAL_ERROR';
}

/** Posts the content height whenever it changes, so the host can size the iframe to fit. */
function reportHeight(root: HTMLElement, bridge: HostBridge): void {
  let last = -1;
  let scheduled = false;
  const measure = () => {
    scheduled = false;
    const height = Math.ceil(root.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      bridge.post({ type: 'resize', height });
    }
  };
  new ResizeObserver(() => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(measure);
    }
  }).observe(root);
}

/** One embed session: redemption, queries and renewal. */
class EmbedViewer {
  private session: { id: string; expiresAt: number } | undefined;
  private dashboard: DashboardView | undefined;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  private queryTimer: ReturnType<typeof setTimeout> | undefined;
  private queryAbort: AbortController | undefined;
  private querySeq = 0;
  private stopped = false;

  constructor(
    private readonly api: EmbedApi,
    private readonly embedId: string,
    private readonly bridge: HostBridge,
    private readonly screen: ViewerScreen,
  ) {}

  /** Authenticates through the host and redeems the token from the URL (or one the host provides). */
  async start(fragmentToken: string | undefined): Promise<void> {
    this.stopped = false;
    this.screen.showLoading();
    try {
      await this.bridge.waitForAuth();
      const token = fragmentToken ?? (await this.requestInitialToken());
      const session = await this.withAuth((idToken) => this.api.createSession(token, idToken));
      this.open(session);
    } catch (error) {
      // A redemption whose answer was lost may have consumed the token: a retry asks for a fresh one.
      this.fail(error, () => void this.start(undefined));
    }
  }

  private async requestInitialToken(): Promise<string> {
    try {
      return await this.bridge.requestEmbedToken('initial');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'HOST_TIMEOUT') {
        throw new ApiError('EMBED_TOKEN_MISSING', 'No embed token.', 0);
      }
      throw error;
    }
  }

  private open(session: SessionResponse): void {
    this.session = { id: session.sessionId, expiresAt: session.expiresAt };
    const view = new DashboardView(session.dashboard.title, session.dashboard.widgets, session.parameters, () =>
      this.scheduleQuery(),
    );
    this.dashboard = view;
    this.screen.showDashboard(view);
    this.scheduleRenewal();
    if (session.data) {
      view.update(session.data);
      this.bridge.post({ type: 'rendered' });
    } else {
      // The first query right away (no debounce): session + query are the two calls to a full render.
      void this.runQuery().then(() => {
        if (this.dashboard === view && view.hasData) this.bridge.post({ type: 'rendered' });
      });
    }
  }

  /** Calls the API with the current ID token; if it has expired, asks the host once for a new one. */
  private async withAuth<T>(call: (idToken: string) => Promise<T>): Promise<T> {
    const idToken = this.bridge.currentIdToken ?? (await this.bridge.waitForAuth());
    try {
      return await call(idToken);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'UNAUTHENTICATED') throw error;
      return call(await this.bridge.requestAuth());
    }
  }

  private scheduleQuery(): void {
    clearTimeout(this.queryTimer);
    this.queryTimer = setTimeout(() => void this.runQuery(), QUERY_DEBOUNCE_MS);
  }

  /** One query for all widgets with the current control values; a newer query supersedes an older one. */
  private async runQuery(): Promise<void> {
    const dashboard = this.dashboard;
    const session = this.session;
    if (!dashboard || !session || this.stopped) return;
    const reading = dashboard.controls?.read() ?? { ok: true as const, values: {} };
    if (!reading.ok) {
      dashboard.showNotice('PARAM_INVALID', reading.message);
      return;
    }
    dashboard.clearNotice();
    this.queryAbort?.abort();
    const abort = new AbortController();
    this.queryAbort = abort;
    const seq = ++this.querySeq;
    dashboard.setUpdating(true);
    let data: QueryResult;
    try {
      data = await this.withAuth((idToken) =>
        this.api.query(session.id, this.embedId, reading.values, idToken, abort.signal),
      );
    } catch (error) {
      if (abort.signal.aborted || seq !== this.querySeq) return;
      dashboard.setUpdating(false);
      const code = errorCode(error);
      if (isParameterError(code)) {
        const message = error instanceof ApiError && error.message ? error.message : describeError(code).title;
        dashboard.showNotice(code, message);
      } else if (isTransientError(code)) {
        dashboard.showNotice(code, `${describeError(code).title} ${describeError(code).detail}`, () =>
          this.scheduleQuery(),
        );
      } else {
        this.fail(error);
      }
      return;
    }
    if (seq !== this.querySeq) return;
    dashboard.setUpdating(false);
    dashboard.update(data);
  }

  private scheduleRenewal(delayMs?: number): void {
    clearTimeout(this.renewTimer);
    const session = this.session;
    if (!session || this.stopped) return;
    const delay = delayMs ?? session.expiresAt - Date.now() - RENEW_BEFORE_MS;
    this.renewTimer = setTimeout(() => void this.renew(), Math.min(MAX_TIMER_MS, Math.max(1_000, delay)));
  }

  /** Renews the session in place; the dashboard and its filter values are not touched. */
  private async renew(): Promise<void> {
    const session = this.session;
    if (!session || this.stopped) return;
    try {
      const token = await this.bridge.requestEmbedToken('renew');
      const renewed = await this.withAuth((idToken) => this.api.renewSession(session.id, token, idToken));
      session.id = renewed.sessionId;
      session.expiresAt = renewed.expiresAt;
      this.scheduleRenewal();
    } catch (error) {
      if (this.stopped) return;
      const code = errorCode(error);
      if (!isTransientError(code)) {
        this.fail(error);
      } else if (Date.now() + RENEW_RETRY_MS < session.expiresAt) {
        this.scheduleRenewal(RENEW_RETRY_MS);
      } else {
        this.fail(new ApiError('EMBED_SESSION_INVALID', 'The session expired before it could be renewed.', 0));
      }
    }
  }

  /** Shows the error in the frame and reports it to the host; the session is over. */
  fail(error: unknown, retry?: () => void): void {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.queryTimer);
    this.queryAbort?.abort();
    this.dashboard = undefined;
    this.session = undefined;
    const code = errorCode(error);
    this.screen.showError(code, retry);
    this.bridge.post({ type: 'error', code, message: describeError(code).title });
  }
}

function boot(): void {
  // First, before anything can fail: the token must not stay in the address or the history.
  const fragmentToken = takeTokenFromFragment();
  const root = document.getElementById('embed-root') ?? document.body;
  const screen = new ViewerScreen(root);
  const config = readConfig();
  if (!config) {
    screen.showError('VIEWER_CONFIG_INVALID');
    return;
  }
  const bridge = new HostBridge(config.allowedOrigins);
  reportHeight(root, bridge);

  if (config.error) {
    screen.showError(config.error.code);
    bridge.post({ type: 'error', code: config.error.code, message: config.error.message });
    return;
  }
  if (window.parent === window) {
    screen.showError('EMBED_NOT_FRAMED');
    return;
  }
  const viewer = new EmbedViewer(new EmbedApi(config.apiBaseUrl), config.embedId, bridge, screen);
  bridge.start();
  bridge.post({ type: 'ready' });
  void viewer.start(fragmentToken);
}

boot();
