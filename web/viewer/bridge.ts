/**
 * The viewer side of the postMessage protocol. A message is handled only when it comes from the
 * parent window AND from one of the embed's allowed origins; once the host has authenticated the
 * viewer, its origin is the only one the viewer talks to or listens to. Nothing is ever posted to
 * `'*'`.
 */
import {
  EMBED_PROTOCOL,
  type HostMessage,
  parseHostMessage,
  type TokenRequestMessage,
  type ViewerMessage,
} from '../sdk/protocol.ts';
import { ApiError } from './api.ts';

type WithoutProtocol<T> = T extends unknown ? Omit<T, 'protocol'> : never;

/** A viewer message as passed to `post` (the protocol field is added). */
export type OutgoingMessage = WithoutProtocol<ViewerMessage>;

/** How long the viewer waits for the host before showing an error. */
export const HOST_REPLY_TIMEOUT_MS = 20_000;

export class HostBridge {
  /** The origin that authenticated the viewer; fixed after the first valid `auth`. */
  private hostOrigin: string | undefined;
  private idToken: string | undefined;
  private readonly authWaiters: Array<(idToken: string) => void> = [];
  private tokenWaiter: { resolve: (token: string) => void; reject: (error: Error) => void } | undefined;
  private pendingToken: Promise<string> | undefined;
  private readonly listener = (event: MessageEvent): void => this.receive(event);

  constructor(
    private readonly allowedOrigins: readonly string[],
    private readonly win: Window = window,
  ) {}

  /** Starts listening for host messages. */
  start(): void {
    this.win.addEventListener('message', this.listener);
  }

  /** The latest ID token the host sent, if any. */
  get currentIdToken(): string | undefined {
    return this.idToken;
  }

  /**
   * Posts to the host. Before authentication the parent's origin is unknown, so the message goes
   * to each allowed origin explicitly and the browser delivers only the one that matches.
   */
  post(message: OutgoingMessage): void {
    if (this.win.parent === this.win) return;
    const full = { protocol: EMBED_PROTOCOL, ...message } as ViewerMessage;
    for (const origin of this.targetOrigins()) {
      try {
        this.win.parent.postMessage(full, origin);
      } catch {
        // A malformed origin cannot occur (validated server-side); a throw here must not stop the others.
      }
    }
  }

  /** Resolves with the first ID token (immediately if one has arrived already). */
  waitForAuth(timeoutMs = HOST_REPLY_TIMEOUT_MS): Promise<string> {
    if (this.idToken !== undefined) return Promise.resolve(this.idToken);
    return this.nextAuth(timeoutMs);
  }

  /** Asks the host for a fresh ID token (after the API refused the current one). */
  requestAuth(timeoutMs = HOST_REPLY_TIMEOUT_MS): Promise<string> {
    const next = this.nextAuth(timeoutMs);
    this.post({ type: 'auth-request' });
    return next;
  }

  /** Asks the host for a new embed token; concurrent callers share the one outstanding request. */
  requestEmbedToken(reason: TokenRequestMessage['reason'], timeoutMs = HOST_REPLY_TIMEOUT_MS): Promise<string> {
    if (this.pendingToken) return this.pendingToken;
    const pending = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.tokenWaiter = undefined;
        reject(new ApiError('HOST_TIMEOUT', 'The app did not answer in time.', 0));
      }, timeoutMs);
      this.tokenWaiter = {
        resolve: (token) => {
          clearTimeout(timer);
          resolve(token);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    }).finally(() => {
      this.pendingToken = undefined;
    });
    this.pendingToken = pending;
    this.post({ type: 'token-request', reason });
    return pending;
  }

  private nextAuth(timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.authWaiters.indexOf(done);
        if (index >= 0) this.authWaiters.splice(index, 1);
        reject(new ApiError('EMBED_AUTH_TIMEOUT', 'The app did not sign you in.', 0));
      }, timeoutMs);
      const done = (idToken: string) => {
        clearTimeout(timer);
        resolve(idToken);
      };
      this.authWaiters.push(done);
    });
  }

  private targetOrigins(): readonly string[] {
    if (this.hostOrigin) return [this.hostOrigin];
    // Where the browser tells us the parent's origin (Chromium, WebKit), post only there.
    const parentOrigin = this.win.location.ancestorOrigins?.[0];
    if (parentOrigin && this.allowedOrigins.includes(parentOrigin)) return [parentOrigin];
    return this.allowedOrigins;
  }

  private receive(event: MessageEvent): void {
    if (event.source !== this.win.parent || this.win.parent === this.win) return;
    if (this.hostOrigin ? event.origin !== this.hostOrigin : !this.allowedOrigins.includes(event.origin)) return;
    const message = parseHostMessage(event.data);
    if (message) this.handle(message, event.origin);
  }

  private handle(message: HostMessage, origin: string): void {
    switch (message.type) {
      case 'auth': {
        this.hostOrigin = origin;
        this.idToken = message.idToken;
        for (const waiter of this.authWaiters.splice(0)) waiter(message.idToken);
        return;
      }
      case 'token': {
        // Unsolicited tokens are ignored: the host answers requests, it does not push tokens.
        const waiter = this.tokenWaiter;
        this.tokenWaiter = undefined;
        waiter?.resolve(message.token);
        return;
      }
      case 'token-error': {
        const waiter = this.tokenWaiter;
        this.tokenWaiter = undefined;
        waiter?.reject(new ApiError(message.code, message.message, 0));
        return;
      }
    }
  }
}
