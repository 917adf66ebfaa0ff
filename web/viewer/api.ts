/**
 * The viewer's client for the embed API (docs/contracts.md, "API shapes"). Every failure becomes
 * an `ApiError` with a stable code: the API's own `{ code, message }`, a code derived from the
 * HTTP status when a gateway answered without one, or `NETWORK_ERROR` when nothing answered.
 */

/** A column as returned by a query: a plain name or a described column. */
export type ColumnSpec = string | { readonly name: string; readonly type?: string; readonly label?: string };

/** One widget's data: rows are arrays aligned with `columns` (objects keyed by column name are accepted too). */
export interface WidgetResult {
  readonly columns: readonly ColumnSpec[];
  readonly rows: readonly unknown[];
  readonly truncated: boolean;
}

/** `POST /v1/embed/query` response (also accepted as an optional `data` of a new session). */
export interface QueryResult {
  readonly widgets: Readonly<Record<string, WidgetResult>>;
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface WidgetDefinition {
  readonly id: string;
  readonly type: string;
  readonly title?: string;
}

/** An editable parameter of the session, with its current value. */
export interface EditableParameter {
  readonly name: string;
  readonly type: string;
  readonly label?: string;
  readonly allowedValues?: readonly (string | number)[];
  readonly min?: number | string;
  readonly max?: number | string;
  readonly value?: unknown;
}

/** `POST /v1/embed/sessions` response. */
export interface SessionResponse {
  readonly sessionId: string;
  /** Epoch milliseconds, normalised from the API's ISO string or epoch seconds. */
  readonly expiresAt: number;
  readonly embed: { readonly id: string; readonly allowedOrigins: readonly string[] };
  readonly dashboard: { readonly id: string; readonly title: string; readonly widgets: readonly WidgetDefinition[] };
  readonly parameters: readonly EditableParameter[];
  /** Present only if the API inlines the first result; otherwise the viewer queries right away. */
  readonly data?: QueryResult;
}

/** `POST /v1/embed/sessions/{sessionId}/renew` response. */
export interface RenewResponse {
  readonly sessionId: string;
  readonly expiresAt: number;
}

/** A failed API call with the code the viewer switches on. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

/** Codes for HTTP failures whose body carries no code (API Gateway's own 401/403/429/5xx answers). */
function codeForStatus(status: number): string {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'DEPENDENCY_UNAVAILABLE';
  return 'RESPONSE_INVALID';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(what: string): ApiError {
  return new ApiError('RESPONSE_INVALID', `The dashboard service sent an unexpected ${what}.`, 200);
}

/** Accepts epoch seconds, epoch milliseconds or an ISO date-time; returns epoch milliseconds. */
export function parseExpiresAt(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw invalid('session expiry');
}

function parseQueryResult(value: unknown): QueryResult {
  if (!isRecord(value) || !isRecord(value.widgets)) throw invalid('query result');
  const widgets: Record<string, WidgetResult> = {};
  for (const [id, result] of Object.entries(value.widgets)) {
    if (!isRecord(result) || !Array.isArray(result.columns) || !Array.isArray(result.rows)) {
      throw invalid('widget result');
    }
    const columns = result.columns.filter(
      (column): column is ColumnSpec =>
        typeof column === 'string' || (isRecord(column) && typeof column.name === 'string'),
    );
    widgets[id] = { columns, rows: result.rows, truncated: result.truncated === true };
  }
  return { widgets, parameters: isRecord(value.parameters) ? value.parameters : {} };
}

function parseSession(value: unknown): SessionResponse {
  if (!isRecord(value) || typeof value.sessionId !== 'string' || value.sessionId === '') throw invalid('session');
  const { dashboard, embed } = value;
  if (!isRecord(dashboard) || !Array.isArray(dashboard.widgets)) throw invalid('dashboard');
  const widgets = dashboard.widgets.filter(
    (widget): widget is WidgetDefinition =>
      isRecord(widget) && typeof widget.id === 'string' && typeof widget.type === 'string',
  );
  const parameters = (Array.isArray(value.parameters) ? value.parameters : []).filter(
    (parameter): parameter is EditableParameter =>
      isRecord(parameter) && typeof parameter.name === 'string' && typeof parameter.type === 'string',
  );
  return {
    sessionId: value.sessionId,
    expiresAt: parseExpiresAt(value.expiresAt),
    embed: {
      id: isRecord(embed) && typeof embed.id === 'string' ? embed.id : '',
      allowedOrigins:
        isRecord(embed) && Array.isArray(embed.allowedOrigins)
          ? embed.allowedOrigins.filter((o): o is string => typeof o === 'string')
          : [],
    },
    dashboard: {
      id: typeof dashboard.id === 'string' ? dashboard.id : '',
      title: typeof dashboard.title === 'string' ? dashboard.title : '',
      widgets,
    },
    parameters,
    ...(value.data === undefined ? {} : { data: parseQueryResult(value.data) }),
  };
}

/** The embed API as the viewer uses it; `idToken` is the viewer's Cognito ID token. */
export class EmbedApi {
  constructor(private readonly baseUrl: string) {}

  /** Redeems an embed token once and opens a session. */
  async createSession(token: string, idToken: string): Promise<SessionResponse> {
    return parseSession(await this.post('/v1/embed/sessions', { token }, idToken));
  }

  /** Renews the session in place with a new embed token; the session keeps its state. */
  async renewSession(sessionId: string, token: string, idToken: string): Promise<RenewResponse> {
    const body = await this.post(`/v1/embed/sessions/${encodeURIComponent(sessionId)}/renew`, { token }, idToken);
    if (!isRecord(body)) throw invalid('renewal');
    return {
      sessionId: typeof body.sessionId === 'string' ? body.sessionId : sessionId,
      expiresAt: parseExpiresAt(body.expiresAt),
    };
  }

  /** Data for all widgets of the session's dashboard, with the viewer's parameter values. */
  async query(
    sessionId: string,
    embedId: string,
    params: Record<string, unknown>,
    idToken: string,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    return parseQueryResult(await this.post('/v1/embed/query', { sessionId, embedId, params }, idToken, signal));
  }

  private async post(path: string, payload: unknown, idToken: string, signal?: AbortSignal): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: { Authorization: idToken, 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new ApiError('NETWORK_ERROR', 'The dashboard service could not be reached.', 0, { cause });
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (cause) {
      if (signal?.aborted) throw cause;
      body = undefined;
    }
    if (response.ok) {
      if (body === undefined) throw invalid('response');
      return body;
    }
    if (isRecord(body) && typeof body.code === 'string' && /^[A-Z0-9_]{1,100}$/.test(body.code)) {
      const message = typeof body.message === 'string' ? body.message.slice(0, 500) : '';
      throw new ApiError(body.code, message, response.status);
    }
    throw new ApiError(
      codeForStatus(response.status),
      `The dashboard service answered ${response.status}.`,
      response.status,
    );
  }
}
