import { createReadStream } from 'node:fs';
import { lstat, open as openFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { PassThrough, Readable } from 'node:stream';

import tar from 'tar-stream';
import { BundleError, type BundleLimits, type Entry, safeEntryPath } from './entry.js';
import { zipEntries } from './zip.js';

/** How far into an archive on disk the reading is: `read()` bytes of `size`. */
export interface BundlePosition {
  size: number;
  read: () => number;
}

export interface OpenedBundle {
  name: string; // display name: the file or folder name
  kind: 'dir' | 'tar' | 'tar.gz' | 'tar.xz' | 'zip' | 'file';
  entries: AsyncIterable<Entry>;
  /** Entries refused for safety ('..' paths), filled while iterating. */
  refused: string[];
  /** Absolute entry names, read as relative to the bundle as GNU tar does. */
  absolute: string[];
  /** An archive's bytes read so far of its size on disk, for a progress line (a folder's total is not known up front). */
  position?: BundlePosition;
}

async function* fileChunks(path: string): AsyncIterable<Buffer> {
  yield* createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
}

async function sniffMagic(path: string): Promise<Buffer> {
  const fh = await openFile(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function isTarHeader(b: Buffer): boolean {
  return b.length >= 263 && b.toString('latin1', 257, 262) === 'ustar';
}

/** An archive's name, as `forensics report` reads one (a folder holding only these is a set of bundles). */
export const ARCHIVE_NAME = /\.(?:tar|tar\.gz|tgz|tar\.xz|txz|zip)$/i;

/** Which archive a file's first bytes (up to 512) say it is, if any. */
export function archiveKind(magic: Buffer): 'tar.gz' | 'tar' | 'tar.xz' | 'zip' | undefined {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'tar.gz';
  if (isTarHeader(magic)) return 'tar';
  if (magic[0] === 0xfd && magic.toString('latin1', 1, 6) === '7zXZ\0') return 'tar.xz'; // sosreport's default
  // A zip, as a ticket system or a Windows hand sends it (a local file header, or an empty zip's end record).
  if (magic.toString('latin1', 0, 4) === 'PK\x03\x04' || magic.toString('latin1', 0, 4) === 'PK\x05\x06') return 'zip';
  return undefined;
}

/**
 * A compression forensics does not read, by its magic bytes, with the command that undoes it. Node has no bzip2, zstd
 * (before Node 22), lz4, 7z or rar: the user decompresses (a .tar is then read as it is, never extracted).
 */
export function unreadCompression(magic: Buffer): { name: string; undo: string } | undefined {
  const at = (hex: string) => magic.length >= hex.length / 2 && magic.subarray(0, hex.length / 2).toString('hex') === hex;
  if (at('425a68') && magic[3] >= 0x31 && magic[3] <= 0x39) return { name: 'bzip2', undo: 'bunzip2 -k' }; // "BZh1"…"BZh9"
  if (at('28b52ffd')) return { name: 'zstd', undo: 'zstd -d' };
  if (at('04224d18')) return { name: 'lz4', undo: 'lz4 -d' };
  if (at('377abcaf271c')) return { name: '7z', undo: '7z x' };
  if (at('526172211a07')) return { name: 'rar', undo: 'unrar x' };
  return undefined;
}

export function bundleName(path: string): string {
  return basename(path).replace(/\.(tar\.gz|tgz|tar\.xz|txz|tar|gz|zip)$/i, '') || path;
}

/** Opens a directory, .tar, .tar.gz/.tgz, .tar.xz, .zip, or a single evidence file, as a stream of entries. */
export async function openBundle(path: string, limits: BundleLimits): Promise<OpenedBundle> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BundleError(
      code === 'ENOENT' ? `${path}: no such file or directory. Pass a bundle folder, .tar, .tar.gz or .zip made by \`forensics collect\` or by hand.` : `${path}: cannot open (${code ?? (e as Error).message}).`,
    );
  }
  const name = bundleName(path);
  const refused: string[] = [];
  const absolute: string[] = [];
  if (st.isDirectory()) return { name, kind: 'dir', entries: dirEntries(path, refused), refused, absolute };
  if (!st.isFile()) throw new BundleError(`${path}: not a regular file or folder.`);
  let magic: Buffer;
  try {
    magic = await sniffMagic(path);
  } catch (e) {
    throw new BundleError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Check its permissions.`);
  }
  const archive = (kind: 'tar' | 'tar.gz' | 'tar.xz', compression: 'gzip' | 'xz' | 'none'): OpenedBundle => {
    const position: BundlePosition = { size: st.size, read: () => 0 };
    return { name, kind, entries: tarEntries(path, compression, limits, refused, absolute, position), refused, absolute, position };
  };
  const kind = archiveKind(magic);
  if (kind === 'tar.gz') return archive('tar.gz', 'gzip');
  if (kind === 'tar') return archive('tar', 'none');
  if (kind === 'tar.xz') return archive('tar.xz', 'xz');
  if (kind === 'zip') {
    const position: BundlePosition = { size: st.size, read: () => 0 };
    return { name, kind: 'zip', entries: zipEntries(path, limits, refused, absolute, position), refused, absolute, position };
  }
  const packed = unreadCompression(magic);
  if (packed)
    throw new BundleError(
      `${path}: compressed with ${packed.name}, which forensics does not read. Decompress it first (${packed.undo} ${path}) and pass what comes out: a .tar is read as it is, never extracted.`,
    );
  // A loose evidence file (a pasted transcript, one command's output) is a one-file bundle.
  return {
    name,
    kind: 'file',
    refused,
    absolute,
    entries: (async function* () {
      yield { path: basename(path), kind: 'file', size: st.size, mtime: st.mtimeMs, chunks: () => fileChunks(path) } satisfies Entry;
    })(),
  };
}

async function* dirEntries(root: string, refused: string[]): AsyncIterable<Entry> {
  // Sorted for deterministic output; symlinks are listed, never followed.
  // Loaded here, not at startup: a report on archives does not need it (each library costs 30-40 ms to load).
  const { default: fg } = await import('fast-glob');
  const found = await fg('**', { cwd: root, dot: true, onlyFiles: false, followSymbolicLinks: false, markDirectories: false, suppressErrors: true, unique: true });
  found.sort();
  for (const rel of found) {
    const path = safeEntryPath(rel);
    if (!path) {
      refused.push(rel);
      continue;
    }
    const abs = join(root, rel);
    let st;
    try {
      st = await lstat(abs);
    } catch {
      continue; // vanished
    }
    if (st.isSymbolicLink()) {
      let target = '';
      try {
        target = await readlink(abs);
      } catch {
        /* unreadable link: keep it with an empty target */
      }
      yield { path, kind: 'symlink', size: 0, mtime: st.mtimeMs, linkTarget: target, chunks: emptyChunks };
    } else if (st.isDirectory()) yield { path, kind: 'dir', size: 0, mtime: st.mtimeMs, chunks: emptyChunks };
    else if (st.isFile()) yield { path, kind: 'file', size: st.size, mtime: st.mtimeMs, chunks: () => fileChunks(abs) };
    else yield { path, kind: 'other', size: 0, mtime: st.mtimeMs, chunks: emptyChunks };
  }
}

async function* emptyChunks(): AsyncIterable<Buffer> {}

async function* tarEntries(file: string, compression: 'gzip' | 'xz' | 'none', limits: BundleLimits, refused: string[], absolute: string[], position: BundlePosition): AsyncIterable<Entry> {
  const extract = tar.extract();
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  position.read = () => input.bytesRead; // not a 'data' listener: that would set the stream flowing under the xz reader
  let inflated = 0;
  let tooBig = false;
  const XzReadableStream = compression === 'xz' ? (await import('xz-decompress')).default.XzReadableStream : undefined;
  if (compression !== 'none') {
    // A large output chunk keeps inflation fast; the byte count bounds a decompression bomb.
    const inflate: Readable =
      compression === 'gzip'
        ? input.pipe(createGunzip({ chunkSize: 1 << 20 }))
        : // xz in WebAssembly (xz-decompress): node:zlib has no xz, and nothing is written to disk.
          Readable.fromWeb(new XzReadableStream!(Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>) as unknown as import('node:stream/web').ReadableStream);
    inflate.on('data', (c: Buffer) => {
      inflated += c.length;
      if (inflated > limits.maxBundleBytes && !tooBig) {
        tooBig = true;
        inflate.destroy(new BundleError(`${file}: more than ${limits.maxBundleBytes} bytes once decompressed; raise --max-bundle-bytes if this is expected.`, { limit: true }));
      }
    });
    // Up to 3 MiB inflated ahead of the parser, so inflation (on libuv's pool) runs beside parsing instead of in turn.
    // Bench scale 1, 16 alternating runs: 1.3-2.6% faster on average than 8 MiB, same peak RSS; 1 MiB was 1-7% slower.
    inflate.pipe(new PassThrough({ highWaterMark: 3 << 20 })).pipe(extract);
    inflate.on('error', (e) => extract.destroy(e instanceof BundleError ? e : new BundleError(`${file}: corrupt ${compression} data (${e.message}); entries read so far are kept.`)));
  } else {
    input.on('data', (c) => {
      inflated += c.length;
      if (inflated > limits.maxBundleBytes && !tooBig) {
        tooBig = true;
        input.destroy(new BundleError(`${file}: larger than ${limits.maxBundleBytes} bytes; raise --max-bundle-bytes if this is expected.`, { limit: true }));
      }
    });
    input.pipe(extract);
  }
  input.on('error', (e) => extract.destroy(e instanceof BundleError ? e : new BundleError(`${file}: read error (${e.message}).`)));
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const path = safeEntryPath(h.name);
      if (!path && /^[./]*$/.test(h.name)) {
        entry.resume(); // "./": the archive's own root
        continue;
      }
      if (!path) {
        refused.push(h.name);
        entry.resume();
        continue;
      }
      if (h.name.startsWith('/')) absolute.push(h.name);
      const mtime = h.mtime ? h.mtime.getTime() : undefined;
      if (h.type === 'file' || h.type === 'contiguous-file') {
        yield { path, kind: 'file', size: h.size ?? 0, mtime, chunks: () => entry as AsyncIterable<Buffer> };
      } else if (h.type === 'symlink') {
        yield { path, kind: 'symlink', size: 0, mtime, linkTarget: h.linkname ?? '', chunks: emptyChunks };
      } else if (h.type === 'directory') {
        yield { path, kind: 'dir', size: 0, mtime, chunks: emptyChunks };
      } else {
        yield { path, kind: 'other', size: 0, mtime, chunks: emptyChunks };
      }
      entry.resume(); // drains whatever the consumer left unread
    }
  } catch (e) {
    if (e instanceof BundleError) throw e;
    throw new BundleError(`${file}: corrupt archive (${(e as Error).message}); entries read so far are kept.`);
  } finally {
    input.destroy();
  }
}
