/**
 * Files saved on Windows: a UTF-8 byte order mark (Notepad, PowerShell 7's Out-File -Encoding utf8BOM), or UTF-16
 * (Windows PowerShell 5's `>`, e.g. `kubectl exec … > ps.txt`). Parsers read UTF-8 lines: the mark would hide a file's
 * signature, and UTF-16 every line.
 */
export type Bom = 'utf8' | 'utf-16le' | 'utf-16be';

/** The byte order mark a file's first bytes carry, if any (the head may come in pieces of any size). */
export function bomOf(head: readonly Buffer[]): Bom | undefined {
  const b: number[] = []; // the first three bytes, not a copy of the first chunk (up to 1 MiB per file)
  for (const chunk of head) for (let i = 0; i < chunk.length && b.length < 3; i++) b.push(chunk[i]);
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf8';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** Drops a UTF-8 byte order mark from the head, in place; the bytes dropped. */
export function dropUtf8Bom(head: Buffer[]): number {
  let skip = 3;
  for (let i = 0; i < head.length && skip > 0; i++) {
    const n = Math.min(skip, head[i].length);
    head[i] = head[i].subarray(n);
    skip -= n;
  }
  return 3 - skip;
}

/**
 * A UTF-16 file as UTF-8, converted as it is read (its mark dropped). Every byte of `raw` is consumed before this
 * returns, even when its consumer stops asking, since the bundle's next file follows those bytes.
 */
export async function* utf16ToUtf8(raw: AsyncIterator<Buffer>, encoding: 'utf-16le' | 'utf-16be'): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder(encoding); // fatal: false, so a broken pair becomes U+FFFD, not an error
  let finished = false;
  try {
    for (let r = await raw.next(); !r.done; r = await raw.next()) {
      const text = decoder.decode(r.value, { stream: true });
      if (text) yield Buffer.from(text, 'utf8');
    }
    finished = true;
    const tail = decoder.decode();
    if (tail) yield Buffer.from(tail, 'utf8');
  } finally {
    if (!finished) for (let r = await raw.next(); !r.done; r = await raw.next()); // drained, not converted
  }
}
