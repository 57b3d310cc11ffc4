import type { Analysis } from '../engine/analyse.js';
import type { Finding } from '../engine/rule.js';
import { sameId } from '../model/build.js';
import type { TimelineEvent } from '../model/host.js';
import { localText } from '../timeline/time.js';
import { TOOL } from '../version.js';
import { escapeHtml, safeText } from './escape.js';
import type { IpStory } from './ipfocus.js';
import { eventsFor, hostZone, startedText } from './related.js';
import { pushTo, shortId } from '../util.js';

const h = (s: string | number) => escapeHtml(safeText(String(s)));

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:16px;margin:0 0 6px}
.counts span{display:inline-block;margin-right:12px;font-weight:600}
.error{color:#b3261e}.warning{color:#8a5a00}.info{color:#2f6f9f}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
.finding{background:#fff;border:1px solid #dde1e6;border-left:6px solid #999;border-radius:4px;padding:12px 16px;margin:12px 0}
.finding.error{border-left-color:#b3261e;color:inherit}.finding.warning{border-left-color:#d49a00;color:inherit}
.tag{font:600 12px ui-monospace,monospace;padding:1px 6px;border-radius:3px;background:#eef1f4;margin-right:6px}
pre{background:#0f1419;color:#e6e1cf;padding:10px;border-radius:4px;overflow-x:auto;font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
.verdict{font-size:16px;font-weight:600;background:#fff;border:1px solid #dde1e6;padding:10px 14px;border-radius:4px}
svg text{font:11px ui-monospace,monospace;fill:#1d232a}
.legend span{margin-right:14px}
`;

interface Lane {
  key: string;
  label: string;
  host: string;
  events: TimelineEvent[];
  flagged: Finding['severity'] | undefined;
}

function lanesOf(a: Analysis, events: TimelineEvent[]): Lane[] {
  const lanes = new Map<string, Lane>();
  // Events by host and IP, and by host and container, once: a busy node has thousands of lanes.
  const byIp = new Map<string, TimelineEvent[]>();
  const byContainer = new Map<string, TimelineEvent[]>();
  const order = new Map<TimelineEvent, number>();
  for (const [i, e] of events.entries()) {
    order.set(e, i);
    if (e.ip) pushTo(byIp, `${e.host}\0${e.ip}`, e);
    if (e.containerId) pushTo(byContainer, `${e.host}\0${shortId(e.containerId)}`, e);
  }
  for (const host of a.hosts) {
    const claimsByIp = new Map<string, string[]>();
    for (const k of host.claims) pushTo(claimsByIp, k.ip, k.containerId);
    for (const [ip, ids] of claimsByIp) {
      const key = `${host.name}\0${ip}`;
      const related = new Set([...(byIp.get(key) ?? []), ...ids.flatMap((id) => (byContainer.get(`${host.name}\0${shortId(id)}`) ?? []).filter((e) => sameId(id, e.containerId!)))]);
      const evs = [...related].sort((x, y) => order.get(x)! - order.get(y)!);
      const sev = a.findings.filter((f) => f.severity !== 'info' && f.ips.includes(ip) && f.host.split(', ').includes(host.name)).map((f) => f.severity);
      lanes.set(key, { key, label: `${ip} @ ${host.name}`, host: host.name, events: evs, flagged: sev.includes('error') ? 'error' : sev.includes('warning') ? 'warning' : undefined });
    }
  }
  const rank = (l: Lane) => (l.flagged === 'error' ? 0 : l.flagged === 'warning' ? 1 : 2);
  return [...lanes.values()].sort((x, y) => rank(x) - rank(y) || x.label.localeCompare(y.label, 'en', { numeric: true }));
}

const MAX_LANES = 40;

/** An SVG chart: a lane per IP and host; claims as bars, releases, deaths, failed DELs, daemon restarts, findings. */
export function timelineSvg(a: Analysis, events: TimelineEvent[]): string {
  const lanes = lanesOf(a, events).slice(0, MAX_LANES);
  const timed = events.filter((e) => e.kind !== 'bundle:collected');
  const laneEvents = lanes.flatMap((l) => l.events);
  if (!lanes.length || !laneEvents.length) return '<p>No timed events to chart.</p>';
  // The axis spans the lanes' own events up to the collection: a daemon started months earlier would squash them.
  const ends = a.hosts.map((x) => x.clock.collectedAt).filter((x): x is number => x !== undefined);
  const first = laneEvents.reduce((m, e) => Math.min(m, e.at), Infinity);
  const last = ends.reduce((m, t) => Math.max(m, t), laneEvents.reduce((m, e) => Math.max(m, e.at), -Infinity));
  const t0 = first - (last - first) * 0.03;
  const t1 = last;
  const span = Math.max(t1 - t0, 60_000);
  const left = 260;
  const width = 1100;
  const plot = width - left - 20;
  const laneH = 26;
  const top = 30;
  const height = top + lanes.length * laneH + 30;
  const x = (t: number) => left + ((t - t0) / span) * plot;
  const zone = a.hosts[0]?.clock.zone ?? 'UTC';
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  for (let i = 0; i <= 5; i++) {
    const t = t0 + (span * i) / 5;
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 6}" x2="${x(t).toFixed(1)}" y2="${height - 24}" stroke="#e3e6ea"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${height - 8}" text-anchor="middle">${h(localText(t, zone).slice(0, 16))}</text>`);
  }
  // Daemon restarts cut across every lane of their host.
  for (const e of timed.filter((ev) => ev.kind === 'daemon:start' && ev.at >= t0 && ev.at <= t1)) {
    const ys = lanes.map((l, i) => (l.host === e.host ? i : -1)).filter((i) => i >= 0);
    if (!ys.length) continue;
    parts.push(`<line class="restart" x1="${x(e.at).toFixed(1)}" y1="${top + Math.min(...ys) * laneH}" x2="${x(e.at).toFixed(1)}" y2="${top + (Math.max(...ys) + 1) * laneH}" stroke="#6b4fbb" stroke-dasharray="4 3"><title>${h(`${e.host}: ${e.message}`)}</title></line>`);
  }
  lanes.forEach((lane, i) => {
    const y = top + i * laneH + laneH / 2;
    const colour = lane.flagged === 'error' ? '#b3261e' : lane.flagged === 'warning' ? '#8a5a00' : '#1d232a';
    parts.push(`<g class="lane" data-lane="${h(lane.label)}" data-flagged="${lane.flagged ?? ''}">`);
    parts.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end" style="fill:${colour}">${h(lane.label)}</text>`);
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + plot}" y2="${y}" stroke="#eef1f4"/>`);
    const end = a.hosts.find((x2) => x2.name === lane.host)?.clock.collectedAt ?? t1;
    const adds = lane.events.filter((e) => e.kind === 'cni:add' && !/ failed: /.test(e.message));
    for (const add of adds) {
      const release = lane.events.find((e) => e.kind === 'cni:del' && e.containerId === add.containerId && e.at >= add.at && !/ failed: /.test(e.message));
      const stop = release?.at ?? end;
      parts.push(`<rect class="claim" x="${x(add.at).toFixed(1)}" y="${y - 6}" width="${Math.max(2, x(stop) - x(add.at)).toFixed(1)}" height="12" rx="3" fill="${release ? '#9fb3c8' : '#3b82c4'}"><title>${h(add.message)}</title></rect>`);
    }
    for (const e of lane.events) {
      const cx = x(e.at).toFixed(1);
      const tip = `<title>${h(`${localText(e.at, zone)} ${e.message}`)}</title>`;
      if (e.kind === 'cni:del' && / failed: /.test(e.message)) parts.push(`<path class="del-failed" d="M${+cx - 5} ${y - 5}l10 10m0 -10l-10 10" stroke="#b3261e" stroke-width="2.5">${tip}</path>`);
      else if (e.kind === 'cni:del') parts.push(`<circle class="release" cx="${cx}" cy="${y}" r="4" fill="#fff" stroke="#52606d" stroke-width="2">${tip}</circle>`);
      else if (e.kind === 'container:finish') parts.push(`<rect class="death" x="${+cx - 4}" y="${y - 4}" width="8" height="8" fill="#1d232a">${tip}</rect>`);
    }
    if (lane.flagged) parts.push(`<path class="finding-mark" d="M${x(end).toFixed(1)} ${y - 8}l7 8l-7 8l-7 -8z" fill="${colour}"><title>${h(`${lane.flagged}: see the findings for ${lane.label}`)}</title></path>`);
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('');
}

export function renderHtml(a: Analysis, events: TimelineEvent[], story?: IpStory): string {
  const n = (sev: string) => a.findings.filter((f) => f.severity === sev).length;
  const body: string[] = [];
  body.push(`<h1>${h(TOOL.name)} report</h1>`);
  body.push(`<p class="counts"><span class="error">${n('error')} error${n('error') === 1 ? '' : 's'}</span><span class="warning">${n('warning')} warning${n('warning') === 1 ? '' : 's'}</span><span class="info">${n('info')} info</span></p>`);
  body.push('<table class="hosts"><tr><th>host</th><th>addresses</th><th>collected</th><th>zone</th><th>kernel</th></tr>');
  for (const x of a.hosts) body.push(`<tr><td>${h(x.name)}</td><td>${h(x.addresses.join(', '))}</td><td>${h(x.clock.collectedAt !== undefined ? localText(x.clock.collectedAt, x.clock.zone) : 'unknown')}</td><td>${h(x.clock.zone)}</td><td>${h(x.kernel?.release ?? 'unknown')}</td></tr>`);
  body.push('</table>');
  if (story) {
    body.push(`<h2 id="ip">${h(story.ip)}</h2><p class="verdict">${h(story.verdict)}</p><ul>`);
    for (const x of story.holders) body.push(`<li>${h(x.host)}: ${h(x.pod ? `pod ${x.pod}` : x.container)} (${h(x.state)}), given ${h(x.claimedAt ?? 'at an unknown time')}${x.releasedAt ? `, released ${h(x.releasedAt)}` : ', not released'}</li>`);
    for (const p of story.places) body.push(`<li>configured on ${h(p.host)} in ${h(p.netns)}${p.leaked ? ' — <strong>no process: leaked</strong>' : ''}</li>`);
    body.push('</ul>');
  }
  body.push('<h2>Timeline</h2><p class="legend"><span>▬ claim (CNI ADD → DEL, or still held)</span><span>○ released</span><span>✕ DEL failed</span><span>■ container finished</span><span>┆ daemon (re)start</span><span>◆ finding</span></p>');
  body.push(`<div class="chart">${timelineSvg(a, events)}</div>`);
  body.push('<h2>Findings</h2>');
  const serious = a.findings.filter((f) => f.severity !== 'info');
  if (!serious.length) body.push('<p>No leaked namespace, IP conflict or failed teardown found in this evidence.</p>');
  for (const f of serious) {
    const zone = hostZone(a, f.host);
    body.push(`<section class="finding ${f.severity}" data-rule="${h(f.rule)}"><h3><span class="tag ${f.severity}">${h(f.severity)}</span><span class="tag">${h(f.rule)}</span>${h(f.title)}</h3>`);
    body.push(`<p>${h(f.host)}</p><p>${h(f.detail)}</p>`);
    if (f.pinnedBy.length) {
      body.push('<table class="pinners"><tr><th>pinned by</th><th>pid</th><th>ppid</th><th>started</th><th>command</th><th>where</th></tr>');
      for (const p of f.pinnedBy) body.push(`<tr><td>${p.kind}</td><td>${p.pid}</td><td>${p.ppid ?? ''}</td><td>${h(startedText(p.started, zone))}</td><td>${h(p.command ?? '')}</td><td>${h(p.kind === 'mount' ? `${p.path} in ${p.mntns}` : `fd ${p.fd}`)}</td></tr>`);
      body.push('</table>');
    }
    body.push(`<details open><summary>Evidence (${f.evidence.length})</summary><pre>${f.evidence.map((e) => `${h(e.source)}${e.line ? `:${e.line}` : ''}\n    ${h(e.text)}`).join('\n')}</pre></details>`);
    if (f.remediation.length) body.push(`<p>To fix (review, then run by hand):</p><pre class="remediation">${f.remediation.map((r) => h(r)).join('\n')}</pre>`);
    const evs = eventsFor(f, events);
    if (evs.length) body.push(`<details><summary>Timeline (${evs.length})</summary><ul>${evs.map((e) => `<li>${h(localText(e.at, zone))} — ${h(e.message)}</li>`).join('')}</ul></details>`);
    body.push('</section>');
  }
  const info = a.findings.filter((f) => f.severity === 'info');
  if (info.length) body.push(`<h2>Information</h2><ul>${info.map((f) => `<li><span class="tag">${h(f.rule)}</span>${h(f.host)}: ${h(f.title)}</li>`).join('')}</ul>`);
  const diags = a.diagnostics.filter((d) => d.level !== 'info');
  if (diags.length) body.push(`<h2>Diagnostics</h2><ul>${diags.map((d) => `<li>${h(d.level)}: ${h(d.source)}: ${h(d.message)}</li>`).join('')}</ul>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${h(TOOL.name)} report: ${n('error')} errors, ${n('warning')} warnings</title>
<style>${CSS}</style></head>
<body><main>
${body.join('\n')}
</main></body></html>
`;
}
