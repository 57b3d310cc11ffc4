import { readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsers } from '../parsers/index.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    const st = lstatSync(p);
    return st.isDirectory() ? walk(p) : [p];
  });
}

const ROOT = join(__dirname, '../samples');

describe('recognisers', () => {
  const files = walk(ROOT).filter((p) => !/(README\.md|expected\.json|\.tar\.gz|\.tar\.xz|\.zip)$/.test(p)); // archives: read as bundles, not files
  it.each(files.map((f) => [relative(ROOT, f), f]))('no two parsers claim %s', (_rel, file) => {
    const st = lstatSync(file);
    const head = st.isSymbolicLink() ? readlinkSync(file) : readFileSync(file, 'utf8').slice(0, 4096);
    const path = relative(ROOT, file);
    const byPath = parsers.filter((p) => p.recognise.path?.test(path) && (!p.recognise.head || p.recognise.head(head))).map((p) => p.id);
    const bySniff = parsers.filter((p) => p.recognise.sniff?.(head)).map((p) => p.id);
    expect(byPath.length, `path matches: ${byPath}`).toBeLessThanOrEqual(1);
    if (byPath.length) return;
    // A transcript holds other outputs, so their signatures show in it too: it must come first and win.
    if (bySniff.includes('transcript')) expect(bySniff[0]).toBe('transcript');
    else expect(bySniff.length, `content matches: ${bySniff}`).toBe(1);
  });

  it('every parser is registered once, and every parser file is in the registry', () => {
    const ids = parsers.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const files = readdirSync(join(__dirname, '../parsers')).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    expect(files.length).toBe(ids.length);
  });
});
