import { createGunzip } from 'node:zlib';

/** Whether a file's first bytes are gzip's magic number (a rotated cni.log.1.gz, messages-20240101.gz). */
export function isGzip(head: readonly Buffer[]): boolean {
  const first = head.find((b) => b.length > 0);
  if (!first) return false;
  const second = first.length > 1 ? first[1] : head[head.indexOf(first) + 1]?.[0];
  return first[0] === 0x1f && second === 0x8b;
}

/** The name a compressed file is read as: its own without ".gz" (recognisers know cni.log.1, not cni.log.1.gz). */
export function gunzippedName(path: string): string {
  return path.replace(/\.(?:gz|gzip)$/i, '') || path;
}

/**
 * Inflates a gzip-compressed file of a bundle as it is read: nothing reaches the disk, and at most `cap` bytes come out
 * (a gzip bomb stops there). Corrupt or truncated data (a log gzipped while the bundle was made) ends the file with
 * `note`, keeping what came before it. Every byte of `raw` is consumed before this returns, even when it stops early or
 * its consumer stops asking, since the bundle's next file follows those bytes.
 */
export async function* gunzipChunks(raw: AsyncIterator<Buffer>, cap: number, note: (message: string) => void): AsyncGenerator<Buffer> {
  const z = createGunzip({ chunkSize: 1 << 20 });
  let stop = false;
  let readError: unknown;
  const feed = (async () => {
    for (let r = await raw.next(); !r.done; r = await raw.next()) {
      if (stop || z.destroyed) continue; // drained, not inflated
      if (!z.write(r.value))
        await new Promise<void>((resolve) => {
          const go = () => {
            z.off('drain', go);
            z.off('close', go);
            resolve();
          };
          z.on('drain', go);
          z.on('close', go);
        });
    }
    if (!z.destroyed) z.end();
  })().catch((e: unknown) => {
    readError = e; // the bundle itself is broken: said by whoever reads it, not as this file's corruption
    z.destroy(e instanceof Error ? e : new Error(String(e)));
  });
  let total = 0;
  try {
    for await (const c of z as AsyncIterable<Buffer>) {
      total += c.length;
      if (total > cap) {
        note(`more than ${cap} bytes once decompressed; the rest of this file was not read. Raise --max-bundle-bytes if this is expected.`);
        break;
      }
      yield c;
    }
  } catch (e) {
    if (readError === undefined) note(`corrupt gzip data (${(e as Error).message}) after ${total} bytes decompressed; what came before was read`);
  } finally {
    stop = true;
    z.destroy();
    await feed;
  }
  if (readError !== undefined) throw readError;
}
