import type { Analysis } from './analyse.js';
import type { Finding, Severity } from './rule.js';
import { SEVERITY_RANK } from './rule.js';

export interface FindingFilter {
  ip?: string;
  host?: string;
  container?: string;
}

export function filterFindings(a: Analysis, f: FindingFilter): Analysis {
  const keep = (x: Finding) =>
    (!f.ip || x.ips.includes(f.ip)) &&
    (!f.host || x.host.split(', ').includes(f.host)) &&
    (!f.container || x.containers.some((c) => c.id.startsWith(f.container!) || c.pod === f.container || c.pod?.endsWith(`/${f.container}`)));
  return { ...a, findings: a.findings.filter(keep) };
}

export type FailOn = Severity | 'none';

export function reachesFailOn(a: Analysis, failOn: FailOn): boolean {
  if (failOn === 'none') return false;
  return a.findings.some((x) => SEVERITY_RANK[x.severity] >= SEVERITY_RANK[failOn]);
}
