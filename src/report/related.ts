import type { Analysis } from '../engine/analyse.js';
import type { Finding } from '../engine/rule.js';
import { localText } from '../timeline/time.js';
import { sameId } from '../model/build.js';
import type { TimelineEvent } from '../model/host.js';

/** The events behind a finding: its IPs, its containers, its pinning processes, on its hosts. */
export function eventsFor(f: Finding, events: TimelineEvent[], max = 12): TimelineEvent[] {
  const hosts = new Set(f.host.split(', '));
  const pids = new Set(f.pinnedBy.map((p) => p.pid));
  const related = events.filter(
    (e) =>
      hosts.has(e.host) &&
      ((e.ip !== undefined && f.ips.includes(e.ip)) ||
        (e.containerId !== undefined && f.containers.some((c) => sameId(c.id, e.containerId!))) ||
        (e.pid !== undefined && pids.has(e.pid)) ||
        (e.kind === 'daemon:start' && f.rule === 'mount-propagation-pin')),
  );
  return related.length > max ? related.slice(related.length - max) : related;
}

/** The zone a finding's times are shown in: its (first) host's; UTC when the host is unknown. */
export function hostZone(a: Pick<Analysis, 'hosts'>, host: string): string {
  const comma = host.indexOf(', '); // no split: the timeline export asks once per event
  const first = comma < 0 ? host : host.slice(0, comma);
  return a.hosts.find((h) => h.name === first)?.clock.zone ?? 'UTC';
}

/**
 * When a pinning process started, in the zone of every other time of the report ("2017-02-03 14:02:11 +08:00"); the
 * finding keeps it in UTC (ISO 8601) for JSON.
 */
export function startedText(started: string | undefined, zone: string): string {
  if (!started) return '';
  const ms = Date.parse(started);
  return Number.isNaN(ms) ? started : localText(ms, zone);
}
