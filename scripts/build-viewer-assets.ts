/**
 * `tsx scripts/build-viewer-assets.ts <dir>`: builds the web code (`buildWeb`) into a temporary
 * directory and copies the viewer bundle files the viewer function serves (the names
 * `viewerAssetContentType` accepts: scripts and stylesheets, no source maps) into `<dir>`. The
 * `viewer` Lambda's bundling runs this with `<asset output>/viewer`, next to `index.mjs`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { viewerAssetContentType } from '../functions/viewer/viewer-assets.ts';
import { buildWeb } from '../web/build.ts';

/** Builds the viewer and copies its servable files into `targetDir`; returns their names. */
export async function buildViewerAssets(targetDir: string): Promise<string[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'viewer-assets-'));
  try {
    const build = await buildWeb({ outDir: scratch });
    const source = join(build.outDir, 'viewer');
    const names = readdirSync(source).filter((name) => viewerAssetContentType(name) !== undefined);
    if (names.length === 0) throw new Error(`the web build produced no viewer files in ${source}`);
    mkdirSync(targetDir, { recursive: true });
    for (const name of names) copyFileSync(join(source, name), join(targetDir, name));
    return names.sort();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const [target] = process.argv.slice(2);
if (!target) {
  console.error('usage: tsx scripts/build-viewer-assets.ts <dir>');
  process.exitCode = 2;
} else {
  buildViewerAssets(resolve(target)).then(
    (names) => console.error(`viewer assets: ${names.join(', ')} -> ${target}`),
    (error: unknown) => {
      console.error(`viewer assets: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
