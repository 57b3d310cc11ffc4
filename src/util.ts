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

/** Container ids are compared by their first 12 hex digits, as docker prints them. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** Quotes a word for a shell command line shown to a person (remediation, manifest). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
