import type { Analysis } from '../engine/analyse.js';
import { hostZone, startedText } from './related.js';
import type { Finding } from '../engine/rule.js';
import { localText } from '../timeline/time.js';
import { TOOL } from '../version.js';
import { safeText } from './escape.js';
import type { IpStory } from './ipfocus.js';

export interface TextOptions {
  colour: boolean;
  verbose: boolean;
  width?: number;
  story?: IpStory;
}

const SGR = { error: '1;31', warning: '1;33', info: '36', dim: '2', bold: '1' } as const;

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width - indent.length) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out.join('\n');
}

const MAX_PINNERS = 12;
/** Findings of one rule on one host shown in full before the rest are folded to a line each (not with --verbose). */
const FULL_PER_RULE = 5;
const MAX_EVIDENCE = 16;
/** Lines of evidence and pinners' command lines (a process's argv may carry kilobytes of JSON) are cut here; JSON keeps all. */
const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 3)}…` : s);

export function renderText(a: Analysis, opts: TextOptions): string {
  const width = Math.max(60, Math.min(opts.width ?? 100, 140));
  const c = (code: string, s: string) => (opts.colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out: string[] = [];
  out.push(c(SGR.bold, `${TOOL.name} ${TOOL.version}: ${a.hosts.length} host${a.hosts.length === 1 ? '' : 's'}`));
  for (const h of a.hosts) {
    const when = h.clock.collectedAt !== undefined ? `collected ${localText(h.clock.collectedAt, h.clock.zone)} (${safeText(h.clock.collectedSource ?? '')})` : 'collection time unknown';
    out.push(`  ${safeText(h.name)}${h.addresses.length ? ` (${h.addresses.join(', ')})` : ''}: ${when}; zone ${safeText(h.clock.zone)} from ${safeText(h.clock.zoneSource)}${h.kernel ? `; kernel ${safeText(h.kernel.release)}` : ''}`);
  }
  out.push('');
  if (opts.story) {
    const s = opts.story;
    out.push(c(SGR.bold, safeText(s.ip)), wrap(c(SGR.bold, safeText(s.verdict)), width + c('1', '').length, '  '));
    for (const x of s.holders) out.push(`  ${safeText(x.host)}: ${safeText(x.pod ? `pod ${x.pod}` : x.container)} (${x.state}), given ${safeText(x.claimedAt ?? 'at an unknown time')}${x.releasedAt ? `, released ${safeText(x.releasedAt)}` : ', not released'}   [${safeText(x.source)}]`);
    for (const p of s.places) out.push(`  configured on ${safeText(p.host)} in ${safeText(p.netns)}${p.leaked ? ' (no process: leaked)' : ''}`);
    out.push('');
  }
  const serious = a.findings.filter((f) => f.severity !== 'info');
  const info = a.findings.filter((f) => f.severity === 'info');
  // One rule firing many times on one host (thirty failed DELs with the same error) shows its first few in full and the
  // rest a line each, as the information does: every finding is named, and the screen is not one rule's.
  let run = 0;
  let folded = 0;
  for (const [k, f] of serious.entries()) {
    const prev = serious[k - 1];
    run = prev && prev.rule === f.rule && prev.host === f.host && prev.severity === f.severity ? run + 1 : 0;
    if (opts.verbose || run < FULL_PER_RULE) {
      out.push(renderFinding(a, f, c, width), '');
      continue;
    }
    out.push(`  ${c(SGR[f.severity], f.severity.toUpperCase())}  ${f.rule}  [${safeText(f.host)}]  ${safeText(f.title)}`);
    folded++;
    const next = serious[k + 1];
    if (!next || next.rule !== f.rule || next.host !== f.host || next.severity !== f.severity) {
      out.push(`  (${folded} more ${f.rule} finding${folded === 1 ? '' : 's'} on ${safeText(f.host)}, a line each: --verbose shows them in full, as --format json does)`, '');
      folded = 0;
    }
  }
  if (info.length) {
    out.push(c(SGR.bold, `Information (${info.length}):`));
    for (const f of opts.verbose ? info : info.slice(0, 20)) out.push(`  ${c(SGR.info, 'info')}  ${f.rule}  [${safeText(f.host)}]  ${safeText(f.title)}`);
    if (!opts.verbose && info.length > 20) out.push(`  … ${info.length - 20} more (--verbose, or --format json)`);
    out.push('');
  }
  const shownDiags = a.diagnostics.filter((d) => opts.verbose || d.level !== 'info');
  if (shownDiags.length) {
    out.push(c(SGR.bold, 'Diagnostics:'));
    for (const d of shownDiags) out.push(`  ${d.level.padEnd(7)} ${safeText(d.source)}: ${safeText(d.message)}`);
    out.push('');
  }
  const hiddenInfo = a.diagnostics.length - shownDiags.length;
  if (opts.verbose && a.skipped.length) {
    out.push(c(SGR.bold, 'Rules skipped (missing evidence):'));
    for (const s of a.skipped) out.push(`  ${s.rule} on ${safeText(s.host)}: ${s.reason}; collect it with: ${s.collect}`);
    out.push('');
  }
  const n = (sev: string) => a.findings.filter((f) => f.severity === sev).length;
  const tail: string[] = [];
  if (!opts.verbose && a.skipped.length) tail.push(`${a.skipped.length} rule check${a.skipped.length === 1 ? '' : 's'} skipped for missing evidence`);
  if (!opts.verbose && hiddenInfo) tail.push(`${hiddenInfo} file note${hiddenInfo === 1 ? '' : 's'}`);
  out.push(
    `Summary: ${n('error')} error${n('error') === 1 ? '' : 's'}, ${n('warning')} warning${n('warning') === 1 ? '' : 's'}, ${n('info')} info.` +
      (tail.length ? ` ${tail.join('; ')} (see --verbose).` : '') +
      (serious.length ? '' : ' No leaked namespace, IP conflict or failed teardown found in this evidence.'),
  );
  return `${out.join('\n')}\n`;
}

function renderFinding(a: Analysis, f: Finding, c: (code: string, s: string) => string, width: number): string {
  const lines: string[] = [];
  const label = f.severity === 'error' ? 'ERROR' : 'WARNING';
  lines.push(`${c(SGR[f.severity], label)}  ${f.rule}  [${safeText(f.host)}]`);
  lines.push(wrap(c(SGR.bold, safeText(f.title)), width + (c('1', '').length), '  '));
  lines.push(wrap(safeText(f.detail), width, '  '));
  if (f.pinnedBy.length) {
    lines.push(`  ${c(SGR.bold, 'Pinned by:')}`);
    const zone = hostZone(a, f.host);
    for (const p of f.pinnedBy.slice(0, MAX_PINNERS)) {
      const what = p.kind === 'mount' ? `mount ${p.path} in ${p.mntns}` : `fd ${p.fd}`;
      lines.push(`    ${what}: pid ${p.pid}${p.ppid !== undefined ? ` ppid ${p.ppid}` : ''}${p.started ? ` started ${startedText(p.started, zone)}` : ''} ${safeText(cut(p.command ?? '', 160))}`.trimEnd());
    }
    if (f.pinnedBy.length > MAX_PINNERS) lines.push(`    … ${f.pinnedBy.length - MAX_PINNERS} more (--format json lists all)`);
  }
  if (f.evidence.length) {
    lines.push(`  ${c(SGR.bold, 'Evidence:')}`);
    for (const e of f.evidence.slice(0, MAX_EVIDENCE)) {
      const text = cut(e.text, 240);
      lines.push(`    ${c(SGR.dim, `${safeText(e.source)}${e.line ? `:${e.line}` : ''}`)}`);
      lines.push(`      ${safeText(text)}`);
    }
    if (f.evidence.length > MAX_EVIDENCE) lines.push(`    … ${f.evidence.length - MAX_EVIDENCE} more (--format json lists all)`);
  }
  if (f.remediation.length) {
    lines.push(`  ${c(SGR.bold, 'To fix (review, then run by hand):')}`);
    for (const r of f.remediation) lines.push(`    ${r.startsWith('#') ? safeText(r) : `$ ${safeText(r)}`}`);
  }
  return lines.join('\n');
}
