import type { Analysis } from './analyse.js';

/** What a sample's expected file pins down: rule, severity, host and subjects, not wording. */
export interface ExpectedFinding {
  rule: string;
  severity: string;
  host: string;
  ips: string[];
  containers: string[]; // short ids
  netns: string[]; // "net:[inode]" or the first mount path
  pinnedBy: string[]; // "mount 8581", "fd 4242:7"
}

export function expectedOf(a: Analysis): ExpectedFinding[] {
  return a.findings
    .map((f) => ({
      rule: f.rule,
      severity: f.severity,
      host: f.host,
      ips: [...f.ips].sort(),
      containers: [...new Set(f.containers.map((c) => c.id.slice(0, 12)))].sort(),
      netns: f.netns.map((n) => (n.inode ? `net:[${n.inode}]` : (n.paths[0] ?? '?'))).sort(),
      pinnedBy: [...new Set(f.pinnedBy.map((p) => (p.kind === 'mount' ? `mount ${p.pid}` : `fd ${p.pid}:${p.fd}`)))].sort(),
    }))
    .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}

/** Lines describing how `actual` differs from `expected` (empty when they agree). */
export function diffExpected(expected: ExpectedFinding[], actual: ExpectedFinding[]): string[] {
  const key = (f: ExpectedFinding) => JSON.stringify(f);
  const want = new Set(expected.map(key));
  const got = new Set(actual.map(key));
  const out: string[] = [];
  for (const f of expected) if (!got.has(key(f))) out.push(`- missing   ${describe(f)}`);
  for (const f of actual) if (!want.has(key(f))) out.push(`+ unexpected ${describe(f)}`);
  return out;
}

function describe(f: ExpectedFinding): string {
  const parts = [f.ips.join(','), f.containers.join(','), f.netns.join(','), f.pinnedBy.length ? `pinned by ${f.pinnedBy.join(', ')}` : ''].filter(Boolean);
  return `${f.severity} ${f.rule} [${f.host}] ${parts.join(' · ')}`;
}
