/**
 * The layering of `functions/` (README, "Layering"), enforced: each folder imports only the
 * folders below it, so the rule cannot erode one convenient import at a time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const FUNCTIONS = resolve(import.meta.dirname, '..', 'functions');

/** What each folder may import besides itself. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  handlers: ['http', 'api', 'embed', 'admin', 'viewer', 'token', 'keys', 'datasets', 'control', 'shared'],
  http: ['viewer', 'control', 'shared'],
  api: ['admin', 'token', 'keys', 'datasets', 'control', 'shared'],
  embed: ['token', 'keys', 'datasets', 'control', 'shared'],
  admin: ['token', 'keys', 'datasets', 'control', 'shared'],
  viewer: ['control', 'shared'],
  keys: ['token', 'control', 'shared'],
  datasets: ['token', 'control', 'shared'],
  token: ['control', 'shared'],
  control: ['shared'],
  shared: [],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The functions/ folders a file imports (type-only imports included: a type never justifies an upward import). */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const folders: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
    const specifier = match[1] as string;
    if (specifier === '#errors') folders.push('shared');
    else if (specifier.startsWith('#')) folders.push(specifier.slice(1).split('/')[0] as string);
    else if (specifier.startsWith('.')) {
      const target = relative(FUNCTIONS, resolve(dirname(file), specifier));
      if (!target.startsWith('..')) folders.push(target.split('/')[0] as string);
    }
  }
  return folders;
}

describe('functions/ layering', () => {
  const files = sourceFiles(FUNCTIONS);

  it('knows every folder', () => {
    const folders = new Set(files.map((file) => relative(FUNCTIONS, file).split('/')[0]));
    expect([...folders].sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(Object.keys(ALLOWED))('%s/ imports only the folders below it', (folder) => {
    const violations = files
      .filter((file) => relative(FUNCTIONS, file).startsWith(`${folder}/`))
      .flatMap((file) =>
        importedFolders(file)
          .filter((target) => target !== folder && !ALLOWED[folder]?.includes(target))
          .map((target) => `${relative(FUNCTIONS, file)} → ${target}/`),
      );
    expect(violations).toEqual([]);
  });

  it('no import climbs out of a folder with ../ (every folder has a # alias)', () => {
    const climbing = files.filter((file) => /from '\.\.\/(?!\.\.\/lib\/)/.test(readFileSync(file, 'utf8')));
    expect(climbing.map((file) => relative(FUNCTIONS, file))).toEqual([]);
  });
});
