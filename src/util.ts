/** Appends to the list under `key`, creating it: grouping without copying arrays (O(1) per item). */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Appends every item; `list.push(...items)` throws past ~120,000 items (each is a call argument on the stack). */
export function pushAll<T>(list: T[], items: readonly T[]): void {
  for (const x of items) list.push(x);
}

/**
 * The same text as one flat string of its own. V8 keeps a string built by `+` or a template as a tree of its pieces
 * (32 bytes per piece), and a slice of a log line keeps the whole line alive: a busy node's report holds a hundred
 * thousand such messages. Concatenating then slicing makes V8 copy the text once into a new flat string.
 */
export function flat(s: string): string;
export function flat(s: string | undefined): string | undefined;
export function flat(s: string | undefined): string | undefined {
  return s === undefined || s.length < 13 ? s : `${s} `.slice(0, -1); // shorter strings are copied by slice anyway
}

/** Container ids are compared by their first 12 hex digits, as docker prints them. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** Quotes a word for a shell command line shown to a person (remediation, manifest). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
