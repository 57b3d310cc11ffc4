import type { Analysis } from '../engine/analyse.js';
import { TOOL } from '../version.js';
import type { IpStory } from './ipfocus.js';

/** The JSON report: stable key order, no wall-clock time, so one bundle always gives the same bytes. */
export function reportObject(a: Analysis, verbose = false, story?: IpStory) {
  return {
    ...(story ? { ipFocus: story } : {}),
    tool: { name: TOOL.name, version: TOOL.version },
    hosts: a.hosts.map((h) => ({
      id: h.name,
      sources: h.sources,
      collectedAt: h.clock.collectedAt !== undefined ? new Date(h.clock.collectedAt).toISOString() : null,
      collectedFrom: h.clock.collectedSource ?? null,
      timezone: h.clock.zone,
      timezoneFrom: h.clock.zoneSource,
      kernel: h.kernel?.release ?? null,
      addresses: h.addresses,
    })),
    findings: a.findings.map(findingJson),
    diagnostics: a.diagnostics.filter((d) => verbose || d.level !== 'info').map((d) => ({ level: d.level, source: d.source, message: d.message })),
    skipped: a.skipped.map((s) => ({ rule: s.rule, host: s.host, reason: s.reason, collect: s.collect })),
  };
}

/** One finding as the JSON report writes it. */
function findingJson(f: Analysis['findings'][number]) {
  return {
    rule: f.rule,
    severity: f.severity,
    host: f.host,
    title: f.title,
    detail: f.detail,
    ips: f.ips,
    containers: f.containers.map((c) => ({ id: c.id, name: c.name ?? null, pod: c.pod ?? null, state: c.state })),
    netns: f.netns.map((n) => ({ inode: n.inode ?? null, paths: n.paths })),
    pinnedBy: f.pinnedBy.map((p) => ({
      kind: p.kind, pid: p.pid, ppid: p.ppid ?? null, command: p.command ?? null, started: p.started ?? null,
      mntns: p.mntns ?? null, path: p.path ?? null, fd: p.fd ?? null,
    })),
    evidence: f.evidence.map((e) => ({ source: e.source, line: e.line, text: e.text })),
    remediation: f.remediation,
  };
}

/**
 * The JSON report in pieces, one finding at a time: a busy node's report (47 MB for 8,000 IPs) is never held whole,
 * nor copied. The pieces join to exactly `JSON.stringify(reportObject(…), null, 2)` plus a newline.
 */
export function* jsonChunks(a: Analysis, verbose = false, story?: IpStory): Generator<string> {
  const text = JSON.stringify(reportObject({ ...a, findings: [] }, verbose, story), null, 2);
  const at = text.indexOf('\n  "findings": []'); // keys are quoted unescaped only as keys; this one is top level
  if (!a.findings.length || at < 0) {
    yield `${text}\n`;
    return;
  }
  const open = at + '\n  "findings": ['.length;
  yield text.slice(0, open);
  for (const [i, f] of a.findings.entries()) yield `${i ? ',' : ''}\n    ${JSON.stringify(findingJson(f), null, 2).replace(/\n/g, '\n    ')}`;
  yield `\n  ]${text.slice(open + 1)}\n`;
}
