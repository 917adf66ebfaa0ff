/**
 * Duplicate member names in JSON text. `JSON.parse` silently keeps the last of two equal names
 * (and a reviver only ever sees the survivor), while another reader of the same token may keep
 * the first or refuse it; RFC 7515 lets a JWS parser keep the last only if it says so. We refuse.
 *
 * Rather than re-implementing JSON string unescaping, the check compares two counts: valid JSON
 * has exactly one `:` outside strings per member written, and the parsed value has one own key
 * per distinct name per object. They are equal exactly when no object repeats a name: a dropped
 * member, with every object inside it, only lowers the parsed count. Escapes (`"a"` and
 * `"\u0061"`) are decoded by `JSON.parse` itself, so they count as the same name.
 */

const QUOTE = 0x22;
const COLON = 0x3a;
const BACKSLASH = 0x5c;

/** True when an object anywhere in `text` repeats a member name; `parsed` must be `JSON.parse(text)`. */
export function hasDuplicateMemberNames(text: string, parsed: unknown): boolean {
  return countMembersWritten(text) !== countMembersKept(parsed);
}

/** Colons outside strings: one per member in valid JSON text. */
function countMembersWritten(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === COLON) count++;
    else if (c === QUOTE) i = closingQuote(text, i);
  }
  return count;
}

/** Index of the quote that closes the string opened at `open` (or the end, for text that is not JSON). */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at !== -1 && isEscaped(text, at)) at = text.indexOf('"', at + 1);
  return at === -1 ? text.length : at;
}

/** A character is escaped when an odd number of backslashes precede it. */
function isEscaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/** Own keys of every object in a parsed JSON value; iterative, so deep nesting cannot overflow the stack. */
function countMembersKept(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      for (const item of next) if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    const object = next as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      count++;
      const member = object[key];
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
  return count;
}
