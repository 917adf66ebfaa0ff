import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The viewer bundle files as the public viewer API serves them (`GET /assets/viewer/{file}`).
 * They are read once, at cold start, from one directory; the set of names found there is the
 * allowlist, so a request can only ever name one of those files (no path is built from the URL).
 */

/** Content types of the files the viewer bundle consists of; any other file is not served. */
export const VIEWER_ASSET_CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
});

/** A servable file name: one plain segment with a served extension (no `/`, `..`, `%`, `\`). */
const ASSET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.(?:js|css)$/;

/** Names are not content-hashed (`viewer.js`), so caches revalidate after a few minutes. */
export const VIEWER_ASSET_CACHE_CONTROL = 'public, max-age=300';

export interface ViewerAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The servable files by name; empty when the directory is missing (logged by the caller). */
export type ViewerAssets = ReadonlyMap<string, ViewerAsset>;

/** The content type of a servable asset name, or `undefined` for any other name. */
export function viewerAssetContentType(name: string): string | undefined {
  if (!ASSET_NAME_PATTERN.test(name)) return undefined;
  return VIEWER_ASSET_CONTENT_TYPES[name.slice(name.lastIndexOf('.'))];
}

/** Reads every servable file of `dir` (not recursive). Throws when the directory cannot be read. */
export function loadViewerAssets(dir: string): ViewerAssets {
  const assets = new Map<string, ViewerAsset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const contentType = viewerAssetContentType(entry.name);
    if (!entry.isFile() || contentType === undefined) continue;
    assets.set(entry.name, { contentType, body: readFileSync(join(dir, entry.name)) });
  }
  return assets;
}

/** The file a request names, only when it is exactly one of the loaded names. */
export function findViewerAsset(assets: ViewerAssets, requested: string | undefined): ViewerAsset | undefined {
  // An exact Map lookup: no decoding, normalising or joining of what the request says.
  return requested === undefined ? undefined : assets.get(requested);
}
