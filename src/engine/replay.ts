import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyse } from './analyse.js';
import { ARCHIVE_NAME } from '../bundle/open.js';
import { diffExpected, type ExpectedFinding, expectedOf } from './expected.js';

export const EXPECTED_FILE = 'expected.json';
const NOT_BUNDLES = new Set([EXPECTED_FILE, 'README.md']);

export interface SampleResult {
  sample: string;
  diff: string[];
  updated: boolean;
  error?: string;
}

/** The bundles of a sample: everything in its folder but the README and the expected file. */
export async function sampleBundles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => !NOT_BUNDLES.has(n)).sort().map((n) => join(dir, n));
}

const DOC = /^(?:README(?:\.\w+)?|.*\.md|expected\.json)$/i;

/**
 * A folder that only holds archives (and a README or expected file) is a set of bundles, not a bundle: a sample, or
 * the folder an incident's node archives were dropped in. Other paths are returned as given.
 */
export async function expandBundleFolders(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let names: { name: string; isFile(): boolean }[];
    try {
      names = await readdir(p, { withFileTypes: true });
    } catch {
      out.push(p); // not a folder (or unreadable): the reader says what is wrong
      continue;
    }
    const archives = names.filter((d) => d.isFile() && ARCHIVE_NAME.test(d.name));
    const rest = names.filter((d) => !DOC.test(d.name) && !archives.includes(d));
    if (archives.length && !rest.length) out.push(...archives.map((d) => join(p, d.name)).sort());
    else out.push(p);
  }
  return out;
}

/** Runs every sample under `root` and compares its findings with its expected file. */
export async function replay(root: string, update: boolean): Promise<SampleResult[]> {
  const results: SampleResult[] = [];
  const samples = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const sample of samples) {
    const dir = join(root, sample);
    try {
      const actual = expectedOf(await analyse(await sampleBundles(dir)));
      const file = join(dir, EXPECTED_FILE);
      let expected: ExpectedFinding[] = [];
      try {
        expected = (JSON.parse(await readFile(file, 'utf8')) as { findings: ExpectedFinding[] }).findings;
      } catch {
        if (!update) {
          results.push({ sample, diff: [], updated: false, error: `no readable ${EXPECTED_FILE}; run \`forensics replay --update\` to write one` });
          continue;
        }
      }
      const diff = diffExpected(expected, actual);
      if (update && diff.length) await writeFile(file, `${JSON.stringify({ findings: actual }, null, 2)}\n`);
      results.push({ sample, diff, updated: update && diff.length > 0 });
    } catch (e) {
      results.push({ sample, diff: [], updated: false, error: (e as Error).message });
    }
  }
  return results;
}
