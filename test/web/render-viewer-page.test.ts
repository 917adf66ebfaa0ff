import { describe, expect, it } from 'vitest';
import {
  normalizeOrigin,
  parseAllowedOrigins,
  renderViewerPage,
  serializeJsonForScript,
} from '../../functions/viewer/render-viewer-page.ts';

const NONCE = 'cmFuZG9tLW5vbmNlLTEyMzQ1Ng==';

function render(overrides: Partial<Parameters<typeof renderViewerPage>[0]> = {}) {
  return renderViewerPage({
    embedId: 'sales_overview-1',
    allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
    apiBaseUrl: 'https://api.example.com/prod/',
    assetBaseUrl: 'https://cdn.example.com/viewer/',
    nonce: NONCE,
    ...overrides,
  });
}

function embedConfig(body: string): unknown {
  const match = /<script type="application\/json" id="embed-config">([^<]*)<\/script>/.exec(body);
  if (!match?.[1]) throw new Error('no embed-config block');
  return JSON.parse(match[1]);
}

describe('renderViewerPage', () => {
  it('answers an active embed with the exact CSP and security headers', () => {
    // Act
    const page = render();

    // Assess
    expect(page.status).toBe(200);
    expect(page.headers).toEqual({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy':
        "default-src 'none'; script-src 'nonce-cmFuZG9tLW5vbmNlLTEyMzQ1Ng=='; style-src https://cdn.example.com; " +
        "connect-src https://api.example.com; img-src data:; base-uri 'none'; form-action 'none'; " +
        'frame-ancestors https://app.example.com http://localhost:5173',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
  });

  it('loads the bundle with the nonce and puts the config in a JSON block', () => {
    const page = render();

    expect(page.body).toContain(
      `<script type="module" src="https://cdn.example.com/viewer/viewer.js" nonce="${NONCE}"></script>`,
    );
    expect(page.body).toContain('<link rel="stylesheet" href="https://cdn.example.com/viewer/viewer.css">');
    expect(embedConfig(page.body)).toEqual({
      embedId: 'sales_overview-1',
      apiBaseUrl: 'https://api.example.com/prod',
      allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
    });
    expect(page.body).toContain('<body data-state="loading">');
    expect(page.body).not.toMatch(/token/i);
  });

  it('allows scripts by asset origin when no nonce is given, and by self for a path', () => {
    expect(render({ nonce: undefined }).headers['Content-Security-Policy']).toContain(
      'script-src https://cdn.example.com;',
    );
    const samePath = render({ nonce: undefined, assetBaseUrl: '/assets/viewer' });
    expect(samePath.headers['Content-Security-Policy']).toContain("script-src 'self'; style-src 'self';");
    expect(samePath.body).toContain('src="/assets/viewer/viewer.js"');
  });

  it('uses frame-ancestors none when no origin is valid', () => {
    const page = render({ allowedOrigins: ['*', 'https://*.example.com', 'javascript:alert(1)'] });

    expect(page.headers['Content-Security-Policy']).toMatch(/frame-ancestors 'none'$/);
    expect(embedConfig(page.body)).toMatchObject({ allowedOrigins: [] });
  });

  it('drops refused origins and keeps the valid ones, de-duplicated and normalised', () => {
    const page = render({
      allowedOrigins: [
        'https://App.Example.com',
        'https://app.example.com',
        'http://evil.com/x',
        'https://good.example.org:8443',
        "https://a.com; script-src 'unsafe-inline'",
      ],
    });

    expect(page.headers['Content-Security-Policy']).toMatch(
      /frame-ancestors https:\/\/app\.example\.com https:\/\/good\.example\.org:8443$/,
    );
  });

  it('escapes the config so data cannot close the script element', () => {
    const json = serializeJsonForScript({ message: '</script><script>alert(1)</script>&\u2028' });

    expect(json).not.toContain('<');
    expect(json).not.toContain('>');
    expect(json).not.toContain('&');
    expect(json).not.toContain('\u2028');
    expect(JSON.parse(json)).toEqual({ message: '</script><script>alert(1)</script>&\u2028' });
  });

  it('answers an invalid embed id as not found without echoing it, not frameable, without script', () => {
    const page = render({ embedId: '"><script>alert(1)</script>' });

    expect(page.status).toBe(404);
    expect(page.body).not.toContain('alert(1)');
    expect(page.body).not.toContain('<script');
    expect(page.body).toContain('data-error-code="NOT_FOUND"');
    expect(page.headers['Content-Security-Policy']).toBe(
      "default-src 'none'; script-src 'none'; style-src https://cdn.example.com; connect-src 'none'; " +
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('refuses embed ids longer than 64 characters', () => {
    expect(render({ embedId: 'a'.repeat(64) }).status).toBe(200);
    expect(render({ embedId: 'a'.repeat(65) }).status).toBe(404);
  });

  it('renders a disabled embed as an error page that still reports to its host', () => {
    const page = render({ state: 'disabled' });

    expect(page.status).toBe(403);
    expect(page.body).toContain('data-error-code="EMBED_DISABLED"');
    expect(page.body).toContain('<body data-state="error">');
    expect(embedConfig(page.body)).toEqual({
      embedId: 'sales_overview-1',
      apiBaseUrl: 'https://api.example.com/prod',
      allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
      error: { code: 'EMBED_DISABLED', message: 'This dashboard has been disabled by its owner.' },
    });
    expect(page.headers['Content-Security-Policy']).toContain('frame-ancestors https://app.example.com');
  });

  it('renders an unknown embed as not found with no origins', () => {
    const page = render({ state: 'not-found' });

    expect(page.status).toBe(404);
    expect(page.headers['Content-Security-Policy']).toMatch(/frame-ancestors 'none'$/);
    expect(page.body).not.toContain('sales_overview-1');
  });

  it('refuses a misconfigured caller', () => {
    expect(() => render({ apiBaseUrl: 'javascript:alert(1)' })).toThrow(TypeError);
    expect(() => render({ apiBaseUrl: 'https://api.example.com/?x=1' })).toThrow(TypeError);
    expect(() => render({ assetBaseUrl: '//cdn.example.com' })).toThrow(TypeError);
    expect(() => render({ assetBaseUrl: '/assets/"onload' })).toThrow(TypeError);
    expect(() => render({ nonce: "abc' 'unsafe-inline" })).toThrow(TypeError);
  });
});

describe('normalizeOrigin', () => {
  it.each([
    ['https://app.example.com', 'https://app.example.com'],
    ['http://localhost:5173', 'http://localhost:5173'],
    ['HTTPS://APP.EXAMPLE.COM', 'https://app.example.com'],
    ['https://app.example.com:443', 'https://app.example.com'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://[::1]:3000', 'http://[::1]:3000'],
  ])('accepts %s as %s', (input, expected) => {
    expect(normalizeOrigin(input)).toBe(expected);
  });

  it.each([
    ['*'],
    ['https://*'],
    ['https://*.example.com'],
    ['javascript:alert(1)'],
    ['data:text/html,x'],
    ['http://evil.com/x'],
    ['https://app.example.com/'],
    ['https://app.example.com?x=1'],
    ['https://app.example.com#x'],
    ['https://user:pass@app.example.com'],
    ['ftp://app.example.com'],
    ["'self'"],
    ["'none'"],
    ['app.example.com'],
    ['https://a.com https://b.com'],
    ['https://a.com;script-src'],
    [''],
  ])('refuses %s', (input) => {
    expect(normalizeOrigin(input)).toBeUndefined();
  });

  it('refuses non-strings', () => {
    expect(normalizeOrigin(undefined)).toBeUndefined();
    expect(normalizeOrigin(42)).toBeUndefined();
    expect(parseAllowedOrigins([null, 'https://a.example.com', {}])).toEqual({
      valid: ['https://a.example.com'],
      rejected: [null, {}],
    });
  });
});
