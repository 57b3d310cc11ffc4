export interface Entry {
  /** Path inside the bundle, '/'-separated, no leading './' or '/', never containing '..'. */
  path: string;
  kind: 'file' | 'symlink' | 'dir' | 'other';
  size: number;
  mtime?: number; // UTC millis
  linkTarget?: string;
  /** The file's own path when `path` is the name it is read as: a gzip-compressed file, read without its ".gz". */
  shownPath?: string;
  /** The file's bytes; must be consumed (or drained) before the next entry is read. */
  chunks(): AsyncIterable<Buffer>;
}

export interface BundleLimits {
  /** Total decompressed bytes read from one bundle (a gzip bomb stops here). */
  maxBundleBytes: number;
  /** Longest line kept; longer lines are cut with a warning. */
  maxLineBytes: number;
  /** Entries read from one bundle; the rest are left with an error. */
  maxEntries: number;
  /** Largest JSON document (docker inspect, ip -j) parsed whole. */
  maxDocumentBytes: number;
  /** Wall-clock time for reading all bundles; what was read by then is reported. */
  timeLimitMs: number;
  /** The process's resident memory (all its threads) past which a bundle's reading stops, as at maxBundleBytes. */
  maxMemoryBytes: number;
}

export const DEFAULT_LIMITS: BundleLimits = {
  maxBundleBytes: 16 * 1024 ** 3,
  maxLineBytes: 1024 * 1024,
  maxEntries: 1_000_000,
  maxDocumentBytes: 256 * 1024 * 1024,
  timeLimitMs: 15 * 60 * 1000,
  maxMemoryBytes: Infinity,
};

/** Rejects absolute, parent-relative and empty paths; returns the cleaned path or undefined. */
export function safeEntryPath(raw: string): string | undefined {
  const parts: string[] = [];
  for (const p of raw.replace(/\\/g, '/').split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return undefined;
    parts.push(p);
  }
  return parts.length ? parts.join('/') : undefined;
}

export class BundleError extends Error {
  /** True when the bundle is too big for a limit (--max-bundle-bytes), not broken: the reader then says what to drop. */
  readonly limit: boolean;

  constructor(message: string, opts: { limit?: boolean } = {}) {
    super(message);
    this.name = 'BundleError';
    this.limit = opts.limit ?? false;
  }
}
