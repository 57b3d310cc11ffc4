export interface Entry {
  /** Path inside the bundle, '/'-separated, no leading './' or '/', never containing '..'. */
  path: string;
  kind: 'file' | 'symlink' | 'dir' | 'other';
  size: number;
  mtime?: number; // UTC millis
  linkTarget?: string;
  /** The file's bytes; must be consumed (or drained) before the next entry is read. */
  chunks(): AsyncIterable<Buffer>;
}

export interface BundleLimits {
  /** Total decompressed bytes read from one bundle. */
  maxBundleBytes: number;
  /** Longest line kept; longer lines are cut with a warning. */
  maxLineBytes: number;
}

export const DEFAULT_LIMITS: BundleLimits = {
  maxBundleBytes: 32 * 1024 ** 3,
  maxLineBytes: 1024 * 1024,
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
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}
