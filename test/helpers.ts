import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { analyse, type Analysis } from '../src/engine/analyse.js';
import type { Fact } from '../src/model/facts.js';

/** A symlink entry in a test bundle (e.g. proc/1/ns/net -> net:[4026531840]). */
export const link = (target: string) => ({ link: target });
export type TreeFile = string | { link: string };

/** Writes a bundle folder from a path → content map. */
export async function writeTree(root: string, files: Record<string, TreeFile>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path);
    await mkdir(dirname(abs), { recursive: true });
    if (typeof content === 'string') await writeFile(abs, content);
    else await symlink(content.link, abs);
  }
}

/** Analyses one or more hosts given as file maps; cleans up after itself. */
export async function analyseHosts(hosts: Record<string, Record<string, TreeFile>>, opts: Parameters<typeof analyse>[1] = {}): Promise<Analysis> {
  const root = await mkdtemp(join(tmpdir(), 'forensics-test-'));
  try {
    const paths: string[] = [];
    for (const [name, files] of Object.entries(hosts)) {
      await writeTree(join(root, name), files);
      paths.push(join(root, name));
    }
    return await analyse(paths, opts);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export function only<K extends Fact['kind']>(facts: Fact[], kind: K): Extract<Fact, { kind: K }>[] {
  return facts.filter((f): f is Extract<Fact, { kind: K }> => f.kind === kind);
}
