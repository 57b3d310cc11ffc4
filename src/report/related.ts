import type { Finding } from '../engine/rule.js';
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
