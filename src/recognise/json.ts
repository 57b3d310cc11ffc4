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
