import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasDuplicateMemberNames } from '#token/json-members';

function check(text: string): boolean {
  return hasDuplicateMemberNames(text, JSON.parse(text));
}

/** A JSON string literal of `name` with every UTF-16 unit written as a `\uXXXX` escape. */
function escapedName(name: string): string {
  return `"${Array.from({ length: name.length }, (_, i) => `\\u${name.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`;
}

describe('hasDuplicateMemberNames', () => {
  it.each([
    ['a repeated top-level name', '{"a":1,"a":2}'],
    ['a repeated name with equal values', '{"a":1,"b":2,"a":1}'],
    ['a name and its \\u escape', '{"a":1,"\\u0061":2}'],
    ['a name and its upper-case \\u escape', '{"kid":1,"\\u006B\\u0069\\u0064":2}'],
    ['a name and its \\/ escape', '{"a/b":1,"a\\/b":2}'],
    ['a name written with a surrogate pair escape', '{"😀":1,"\\ud83d\\ude00":2}'],
    ['a repeat nested in an object', '{"prm":{"region":"US","region":"EU"}}'],
    ['a repeat in an object inside an array', '{"prm":{"list":[1,{"a":1,"a":2}]}}'],
    ['a repeat whose first value is an object', '{"rsc":{"id":{"x":1,"y":2}},"rsc":3}'],
    ['a repeated __proto__', '{"__proto__":1,"__proto__":2}'],
    ['a repeat after strings full of colons, quotes and backslashes', '{"a":"x:\\"y\\":z\\\\","b\\\\":":","a":0}'],
    ['a repeat with whitespace around the colons', '{ "a" : 1 ,\n\t"a"\r: 2 }'],
    ['the empty name twice', '{"":1,"":2}'],
  ])('finds %s', (_name, text) => {
    expect(check(text)).toBe(true);
  });

  it.each([
    ['distinct names', '{"a":1,"b":{"a":1,"b":[{"a":1}]}}'],
    ['the same name in sibling objects', '{"x":{"a":1},"y":{"a":1},"z":[{"a":1},{"a":1}]}'],
    ['colons, quotes and backslashes inside strings', '{"a:\\"b":"c:\\\\","d\\\\":"\\":","e":"\\\\\\""}'],
    ['names that differ only after unescaping', '{"\\u0061":1,"\\u0062":2,"\\\\u0061":3}'],
    ['a lone __proto__', '{"__proto__":{"polluted":true}}'],
    ['empty objects and arrays', '{"a":{},"b":[],"c":[[],{}]}'],
    ['a top-level array or scalar', '[{"a":1},{"a":2}]'],
  ])('accepts %s', (_name, text) => {
    expect(check(text)).toBe(false);
  });

  it('never reports a duplicate in JSON.stringify output, compact or indented', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(check(JSON.stringify(value))).toBe(false);
        expect(check(JSON.stringify(value, null, 2))).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('always finds a member repeated, escaped or not, at any depth', () => {
    const value = fc.jsonValue({ maxDepth: 2 });
    const object = fc.dictionary(fc.string({ unit: 'binary' }), value, { minKeys: 1, maxKeys: 8 });
    fc.assert(
      fc.property(object, fc.nat(), value, fc.boolean(), fc.nat({ max: 3 }), (o, pick, v, escaped, depth) => {
        // Prepare: repeat one of the object's names in front of it, then bury it `depth` levels deep
        const keys = Object.keys(o);
        const name = keys[pick % keys.length]!;
        const repeated = escaped ? escapedName(name) : JSON.stringify(name);
        let text = `{${repeated}:${JSON.stringify(v)},${JSON.stringify(o).slice(1)}`;
        for (let level = 0; level < depth; level++) text = level % 2 ? `[0,${text}]` : `{"n":${text}}`;

        // Act + Assess
        expect(check(text)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
