// Decoding a bundle's files as they are read: the byte order mark and gzip magic may be split across chunks, and a
// UTF-16 code unit or surrogate pair across chunk boundaries.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipChunks, gunzippedName, isGzip } from '../src/bundle/gunzip.js';
import { bomOf, dropUtf8Bom, utf16ToUtf8 } from '../src/bundle/text-encoding.js';

async function* from(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}
async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(c);
  return Buffer.concat(out).toString('utf8');
}
/** Cuts a buffer into pieces of the given sizes (the last piece takes the rest). */
const cut = (b: Buffer, ...sizes: number[]) => {
  const out: Buffer[] = [];
  let at = 0;
  for (const n of sizes) out.push(b.subarray(at, (at += n)));
  return [...out, b.subarray(at)];
};

describe('byte order marks', () => {
  it('are found when split over chunks, and only at the start', () => {
    expect(bomOf([Buffer.from([0xef]), Buffer.from([]), Buffer.from([0xbb, 0xbf, 0x41])])).toBe('utf8');
    expect(bomOf([Buffer.from([0xff]), Buffer.from([0xfe, 0x41, 0])])).toBe('utf-16le');
    expect(bomOf([Buffer.from([0xfe, 0xff])])).toBe('utf-16be');
    expect(bomOf([Buffer.from('A\ufeff')])).toBeUndefined();
    expect(bomOf([Buffer.from([0xef, 0xbb])])).toBeUndefined();
    expect(bomOf([])).toBeUndefined();
  });

  it('a UTF-8 mark is dropped in place, across chunks, and the count of bytes dropped returned', () => {
    const head = [Buffer.from([0xef, 0xbb]), Buffer.from([0xbf, 0x68, 0x69])];
    expect(dropUtf8Bom(head)).toBe(3);
    expect(Buffer.concat(head).toString()).toBe('hi');
  });

  it('UTF-16 becomes UTF-8 whatever the chunk boundaries, surrogate pairs included', async () => {
    const text = 'net:[4026532177] pod café 🐳\r\nnext line\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    for (const sizes of [[1], [3, 5, 7], [27, 1, 1], [le.length - 1]]) {
      expect(await collect(utf16ToUtf8(from(cut(le, ...sizes)), 'utf-16le'))).toBe(text);
      expect(await collect(utf16ToUtf8(from(cut(be, ...sizes)), 'utf-16be'))).toBe(text);
    }
  });

  it('UTF-16 read only in part still consumes every byte of the file', async () => {
    let pulled = 0;
    const source = (async function* () {
      for (let i = 0; i < 10; i++) {
        pulled++;
        yield Buffer.from(`line ${i}\n`, 'utf16le');
      }
    })();
    const it = utf16ToUtf8(source, 'utf-16le')[Symbol.asyncIterator]();
    await it.next();
    await it.return!(undefined);
    expect(pulled).toBe(10);
  });
});

describe('gzip inside a bundle', () => {
  it('is known by its magic, even split, and read under its name without .gz', () => {
    expect(isGzip([Buffer.from([0x1f]), Buffer.from([0x8b, 8])])).toBe(true);
    expect(isGzip([Buffer.from([0x1f, 0x8c])])).toBe(false);
    expect(isGzip([Buffer.alloc(0)])).toBe(false);
    expect(gunzippedName('var/log/calico/cni/cni.log.1.gz')).toBe('var/log/calico/cni/cni.log.1');
    expect(gunzippedName('messages-20240101.GZ')).toBe('messages-20240101');
    expect(gunzippedName('.gz')).toBe('.gz');
  });

  it('inflates across chunk boundaries and concatenated members', async () => {
    const z = Buffer.concat([gzipSync('first member\n'), gzipSync('second member\n')]);
    const notes: string[] = [];
    expect(await collect(gunzipChunks(from(cut(z, 5, 11, 2)), 1 << 20, (m) => notes.push(m)))).toBe('first member\nsecond member\n');
    expect(notes).toEqual([]);
  });

  it("a broken source is the bundle's error, not this file's corruption", async () => {
    const z = gzipSync('x'.repeat(100));
    const failing = (async function* () {
      yield z.subarray(0, 10);
      throw new Error('tar header corrupt');
    })();
    const notes: string[] = [];
    await expect(collect(gunzipChunks(failing, 1 << 20, (m) => notes.push(m)))).rejects.toThrow('tar header corrupt');
    expect(notes).toEqual([]);
  });
});
