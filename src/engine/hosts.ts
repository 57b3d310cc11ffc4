import type { Fact } from '../model/facts.js';
import type { HostInput } from '../model/build.js';
import { pushTo } from '../util.js';

export interface EntryFacts {
  path: string;
  mtime?: number;
  facts: Fact[];
  parsers: Set<string>;
}

// Top-level names that belong to one host's tree, never a host of their own.
const HOST_TREE = new Set(['proc', 'etc', 'var', 'run', 'usr', 'lib', 'lib64', 'sys', 'boot', 'root', 'home', 'opt', 'tmp', 'sos_commands', 'sos_reports', 'sos_logs', 'commands', 'cmd', 'logs', 'netns', 'mountns', 'docker', 'cni', 'containers']);

/**
 * One bundle is several hosts when, below any single wrapping folder, it holds two or more folders that each
 * carry evidence and are not parts of a host tree (proc/, etc/, var/ …). Anything else is one host.
 */
export function splitHosts(bundle: string, entries: EntryFacts[]): HostInput[] {
  const paths = entries.map((e) => e.path.split('/'));
  let depth = 0;
  // Descend through single wrapping folders ("incident-2026-02-06/…").
  for (; depth < 3; depth++) {
    const tops = new Set(paths.filter((p) => p.length > depth + 1).map((p) => p[depth]));
    const filesHere = paths.some((p) => p.length === depth + 1);
    if (tops.size !== 1 || filesHere || HOST_TREE.has([...tops][0])) break;
  }
  const groups = new Map<string, EntryFacts[]>();
  for (const e of entries) {
    const parts = e.path.split('/');
    const key = parts.length > depth + 1 ? parts[depth] : '';
    pushTo(groups, key, e);
  }
  const hostLike = [...groups].filter(([k, es]) => k !== '' && !HOST_TREE.has(k) && es.some((e) => e.facts.length));
  const prefixName = depth > 0 ? paths.find((p) => p.length > depth)?.[depth - 1] : undefined;
  if (hostLike.length < 2) return [toInput(prefixName ?? bundle, bundle, entries)];
  const hostKeys = new Set(hostLike.map(([k]) => k));
  const rest = entries.filter((e) => !hostKeys.has(e.path.split('/')[depth]));
  const out = hostLike.sort(([a], [b]) => a.localeCompare(b)).map(([k, es]) => toInput(k, bundle, es));
  if (rest.some((e) => e.facts.length)) out.push(toInput(bundle, bundle, rest));
  return out;
}

function toInput(name: string, bundle: string, entries: EntryFacts[]): HostInput {
  let latest: number | undefined;
  for (const e of entries) if (e.mtime !== undefined && (latest === undefined || e.mtime > latest)) latest = e.mtime;
  return { name, sources: [bundle], facts: entries.flatMap((e) => e.facts), parsers: new Set(entries.flatMap((e) => [...e.parsers])), latestMtime: latest };
}
