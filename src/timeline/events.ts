import { DateTime } from 'luxon';
import type { Analysis } from '../engine/analyse.js';
import { sameId } from '../model/build.js';
import type { TimelineEvent } from '../model/host.js';
import { processLabel } from '../model/host.js';
import { pushTo } from '../util.js';

export interface EventFilter {
  ip?: string;
  container?: string; // id prefix or pod name
  host?: string;
  since?: number;
  until?: number;
}

/** What each event's time is, in Timesketch's words. */
export const TIMESTAMP_DESC: Record<string, string> = {
  'cni:add': 'CNI ADD',
  'cni:del': 'CNI DEL',
  'container:start': 'Container started',
  'container:finish': 'Container finished',
  'container:event': 'Container event logged',
  'daemon:start': 'Daemon started',
  'daemon:error': 'Daemon error logged',
  'daemon:warning': 'Daemon warning logged',
  'daemon:firewall': 'Firewall rules replaced',
  'process:start': 'Process started',
  'bundle:collected': 'Evidence collected',
};

/** Every event of every host, with the start of each pinning process and the collection time, oldest first. */
export function allEvents(a: Analysis): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  for (const h of a.hosts) {
    for (const e of h.events) out.push(e); // a spread of a million events would overflow the stack
    // A mount in the host's own mount namespace is the host's, not its oldest process's: that start tells nothing.
    const hostMnt = [...h.mountNamespaces.values()].find((m) => m.isHost)?.key;
    const pinners = new Set(a.findings.filter((f) => f.host.split(', ').includes(h.name)).flatMap((f) => f.pinnedBy.filter((p) => p.kind !== 'mount' || p.mntns !== hostMnt).map((p) => p.pid)));
    for (const pid of [...pinners].sort((x, y) => x - y)) {
      const p = h.processes.get(pid);
      if (p?.started === undefined) continue;
      out.push({ at: p.started, how: 'local', host: h.name, kind: 'process:start', message: `${processLabel(p, pid)} started; it pins a leaked network namespace`, ev: p.ev[0], pid });
    }
    if (h.clock.collectedAt !== undefined && h.clock.collectedSource)
      out.push({ at: h.clock.collectedAt, how: 'exact', host: h.name, kind: 'bundle:collected', message: `evidence collected (${h.clock.collectedSource})`, ev: { source: h.clock.collectedSource, line: 0, text: '' } });
  }
  return out.sort((x, y) => x.at - y.at || x.host.localeCompare(y.host) || x.ev.source.localeCompare(y.ev.source) || x.ev.line - y.ev.line || x.kind.localeCompare(y.kind));
}

/**
 * The containers that held `ip` on each host: by the model's claims, and by the events that gave it (the model keeps
 * the last claims of an IP; the timeline has every ADD).
 */
function containersForIp(a: Analysis, events: TimelineEvent[], ip: string): (host: string, id: string) => boolean {
  // By host and first 12 digits (an IP of a busy node had hundreds of holders, and a million events are asked).
  const held = new Map<string, string[]>();
  const key = (host: string, id: string) => `${host}\0${id.slice(0, 12)}`;
  const add = (host: string, id: string) => pushTo(held, key(host, id), id);
  for (const h of a.hosts) for (const k of h.claims) if (k.ip === ip) add(h.name, k.containerId);
  for (const e of events) if (e.ip === ip && e.containerId) add(e.host, e.containerId);
  return (host, id) => (held.get(key(host, id)) ?? []).some((c) => sameId(c, id));
}

export function filterEvents(events: TimelineEvent[], a: Analysis, f: EventFilter): TimelineEvent[] {
  const heldIp = f.ip ? containersForIp(a, events, f.ip) : undefined;
  return events.filter((e) => {
    if (f.host && e.host !== f.host) return false;
    if (f.since !== undefined && e.at < f.since) return false;
    if (f.until !== undefined && e.at > f.until) return false;
    // Restarts and collection times are the context of any subject's story.
    if (e.kind === 'daemon:start' || e.kind === 'bundle:collected') return true;
    if (heldIp && e.ip !== f.ip && !(e.containerId && heldIp(e.host, e.containerId))) return false;
    if (f.container && !(e.containerId?.startsWith(f.container) || e.pod === f.container || e.pod?.endsWith(`/${f.container}`))) return false;
    return true;
  });
}

/** `--since`/`--until`: an ISO date or date-time, UTC unless it carries an offset. */
export function parseWhen(s: string): number | undefined {
  const dt = DateTime.fromISO(s, { zone: 'UTC', setZone: true });
  return dt.isValid ? dt.toMillis() : undefined;
}
