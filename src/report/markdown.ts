import type { Analysis } from '../engine/analyse.js';
import type { Finding } from '../engine/rule.js';
import type { TimelineEvent } from '../model/host.js';
import { localText } from '../timeline/time.js';
import { TOOL } from '../version.js';
import { safeText } from './escape.js';
import type { IpStory } from './ipfocus.js';
import { eventsFor, hostZone, startedText } from './related.js';

/** Prose from a bundle: no raw HTML, no Markdown syntax, no control characters. */
export function mdText(s: string): string {
  return safeText(s).replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

/** A fenced block whose fence no line of the content can close. */
export function mdFence(body: string, lang = ''): string {
  const longest = Math.max(2, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${safeText(body)}\n${fence}`;
}

export function renderMarkdown(a: Analysis, events: TimelineEvent[], story?: IpStory): string {
  const out: string[] = [];
  const n = (sev: string) => a.findings.filter((f) => f.severity === sev).length;
  out.push(`# ${TOOL.name} report`, '');
  out.push(`**${n('error')} error${n('error') === 1 ? '' : 's'}, ${n('warning')} warning${n('warning') === 1 ? '' : 's'}, ${n('info')} info** across ${a.hosts.length} host${a.hosts.length === 1 ? '' : 's'}.`, '');
  out.push('| host | addresses | collected | zone | kernel |', '| --- | --- | --- | --- | --- |');
  for (const h of a.hosts)
    out.push(`| ${mdText(h.name)} | ${h.addresses.join(', ')} | ${h.clock.collectedAt !== undefined ? localText(h.clock.collectedAt, h.clock.zone) : 'unknown'} | ${mdText(h.clock.zone)} | ${mdText(h.kernel?.release ?? 'unknown')} |`);
  out.push('');
  if (story) {
    out.push(`## ${mdText(story.ip)}`, '', `**${mdText(story.verdict)}**`, '');
    for (const h of story.holders) out.push(`- ${mdText(h.host)}: ${mdText(h.pod ? `pod ${h.pod}` : h.container)} (${mdText(h.state)}), given ${mdText(h.claimedAt ?? 'at an unknown time')}${h.releasedAt ? `, released ${mdText(h.releasedAt)}` : ', not released'}`);
    for (const p of story.places) out.push(`- configured on ${mdText(p.host)} in ${mdText(p.netns)}${p.leaked ? ' — **no process: leaked**' : ''}`);
    out.push('');
  }
  const serious = a.findings.filter((f) => f.severity !== 'info');
  if (serious.length) {
    out.push('## Summary', '');
    for (const f of serious) out.push(`- **${f.severity}** \`${f.rule}\` on ${mdText(f.host)}: ${mdText(f.title)}`);
    out.push('');
  }
  for (const f of serious) out.push(...renderFinding(f, eventsFor(f, events), hostZone(a, f.host)));
  const info = a.findings.filter((f) => f.severity === 'info');
  if (info.length) {
    out.push('## Information', '');
    for (const f of info) out.push(`- \`${f.rule}\` on ${mdText(f.host)}: ${mdText(f.title)}`);
    out.push('');
  }
  const diags = a.diagnostics.filter((d) => d.level !== 'info');
  if (diags.length) {
    out.push('## Diagnostics', '');
    for (const d of diags) out.push(`- ${d.level}: ${mdText(d.source)}: ${mdText(d.message)}`);
    out.push('');
  }
  if (!serious.length) out.push('No leaked namespace, IP conflict or failed teardown found in this evidence.', '');
  return `${out.join('\n')}`;
}

function renderFinding(f: Finding, events: TimelineEvent[], zone: string): string[] {
  const out = [`## ${f.severity === 'error' ? 'Error' : 'Warning'}: ${mdText(f.title)}`, '', `Rule \`${f.rule}\` on ${mdText(f.host)}.`, '', mdText(f.detail), ''];
  if (f.pinnedBy.length) {
    out.push('| pinned by | pid | ppid | started | command | where |', '| --- | --- | --- | --- | --- | --- |');
    for (const p of f.pinnedBy) out.push(`| ${p.kind} | ${p.pid} | ${p.ppid ?? ''} | ${startedText(p.started, zone)} | ${mdText(p.command ?? '')} | ${mdText(p.kind === 'mount' ? `${p.path} in ${p.mntns}` : `fd ${p.fd}`)} |`);
    out.push('');
  }
  if (f.evidence.length) out.push('Evidence:', '', mdFence(f.evidence.map((e) => `${e.source}${e.line ? `:${e.line}` : ''}\n    ${e.text}`).join('\n')), '');
  if (f.remediation.length) out.push('To fix (review, then run by hand):', '', mdFence(f.remediation.join('\n'), 'sh'), '');
  if (events.length) {
    out.push('Timeline:', '');
    for (const e of events) out.push(`- ${localText(e.at, zone)}${e.how === 'exact' || e.how === 'local' ? '' : ' (inferred)'} — ${mdText(e.message)}`);
    out.push('');
  }
  return out;
}
