/** End index (exclusive) of the JSON array or object starting at `from`, string-aware; undefined if unbalanced. */
export function jsonValueEnd(text: string, from: number): number | undefined {
  const open = text[from];
  if (open !== '{' && open !== '[') return undefined;
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if ((ch === '}' || ch === ']') && --depth === 0) return i + 1;
  }
  return undefined;
}

/**
 * Parses the first JSON document in a text (pasted outputs often carry a trailing line or a next prompt).
 * Returns the value and whether text was left over, or the parse error.
 */
export function parseFirstJson(text: string): { value: unknown; trailing: boolean } | { error: string } {
  const start = text.search(/[[{]/);
  if (start < 0) return { error: 'no JSON document' };
  try {
    return { value: JSON.parse(text), trailing: false };
  } catch (e) {
    const end = jsonValueEnd(text, start);
    if (end === undefined) return { error: (e as Error).message };
    try {
      return { value: JSON.parse(text.slice(start, end)), trailing: text.slice(end).trim().length > 0 };
    } catch (e2) {
      return { error: (e2 as Error).message };
    }
  }
}

/** A non-empty string from JSON of unknown shape, else undefined. */
export function jsonStr(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** A plain object from JSON of unknown shape (not an array, not null), else undefined. */
export function jsonObj<T = Record<string, unknown>>(v: unknown): T | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as T) : undefined;
}

/**
 * Each item of the JSON documents in a text: one document, an array of them, or several printed one after another
 * by a shell loop (`for id in …; do crictl inspectp $id; done`). `lineOf(needle)` is the 1-based line, counted from
 * `first`, where `needle` first appears in the current document. Stops with `warn` at the first text that is not JSON.
 */
export function eachJsonItem(text: string, first: number, what: string, warn: (line: number, message: string) => void, visit: (item: unknown, lineOf: (needle: string) => number) => void): void {
  let at = text.search(/[[{]/);
  while (at >= 0) {
    const end = jsonValueEnd(text, at);
    if (end === undefined) return warn(first, `${what} output is not complete JSON`);
    let doc: unknown;
    try {
      doc = JSON.parse(text.slice(at, end));
    } catch (e) {
      return warn(first, `${what} output is not JSON: ${(e as Error).message}`);
    }
    const from = at;
    const lineOf = (needle: string) => {
      const found = text.indexOf(needle, from);
      return first + (text.slice(0, found < 0 ? from : found).match(/\n/g)?.length ?? 0);
    };
    for (const item of Array.isArray(doc) ? doc : [doc]) visit(item, lineOf);
    const next = text.slice(end).search(/[[{]/);
    at = next < 0 ? -1 : end + next;
  }
}

/** A CRI time: RFC 3339, or the unix nanoseconds of 2017 builds; unset ("0", year 1 or 1970) is undefined. */
export function criTime(v: unknown): { kind: 'exact'; utc: number } | undefined {
  const s = jsonStr(v);
  if (!s || s === '0' || s.startsWith('0001-01-01') || s.startsWith('1970-01-01')) return undefined;
  if (/^\d{18,19}$/.test(s)) return { kind: 'exact', utc: Math.floor(Number(s) / 1e6) };
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : { kind: 'exact', utc: ms };
}
