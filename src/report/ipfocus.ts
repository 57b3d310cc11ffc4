import type { Analysis } from '../engine/analyse.js';
import { isLeaked, namespacesWithIp, netnsName } from '../engine/rule.js';
import { containerLabel, hasProcess, type HostModel, type Netns, podName } from '../model/host.js';
import { localText } from '../timeline/time.js';
import { holderOf } from '../../rules/ip-last-holder.js';

export interface IpPlace {
  host: string;
  netns: string;
  leaked: boolean;
  owner?: string;
}

export interface IpHolder {
  host: string;
  container: string;
  pod?: string;
  state: string;
  claimedAt?: string;
  releasedAt?: string;
  source: string;
}

export interface IpStory {
  ip: string;
  holders: IpHolder[]; // oldest first, per host
  current: IpHolder[]; // claims not released
  places: IpPlace[];
  verdict: string;
}

function placesOn(h: HostModel, ip: string): { n: Netns; place: IpPlace }[] {
  return namespacesWithIp(h, ip).map((n) => ({ n, place: { host: h.name, netns: netnsName(n), leaked: isLeaked(n), owner: n.containers[0] ? containerLabel(n.containers[0]) : undefined } }));
}

/** Everything the bundles say about one IP, and the verdict in one sentence. */
export function ipStory(a: Analysis, ip: string): IpStory {
  const holders: IpHolder[] = [];
  const current: IpHolder[] = [];
  const places: IpPlace[] = [];
  for (const h of a.hosts) {
    for (const k of h.claims.filter((c) => c.ip === ip).sort((x, y) => (x.at ?? 0) - (y.at ?? 0))) {
      const { container, state } = holderOf(h, k.containerId);
      const holder: IpHolder = {
        host: h.name,
        container: k.containerId.slice(0, 12),
        pod: podName(container?.pod ?? k.pod, container?.podNamespace ?? k.podNamespace),
        state,
        claimedAt: k.at !== undefined ? localText(k.at, h.clock.zone) : undefined,
        releasedAt: k.released?.at !== undefined ? localText(k.released.at, h.clock.zone) : undefined,
        source: `${k.ev.source}:${k.ev.line}`,
      };
      holders.push(holder);
      if (!k.released) current.push(holder);
    }
    places.push(...placesOn(h, ip).map((p) => p.place));
  }
  return { ip, holders, current, places, verdict: verdict(ip, current, places) };
}

function who(h: IpHolder): string {
  return `${h.pod ? `pod ${h.pod}` : `container ${h.container}`} (${h.state}) on ${h.host}`;
}

function verdict(ip: string, current: IpHolder[], places: IpPlace[]): string {
  const leaked = places.filter((p) => p.leaked);
  const live = places.filter((p) => !p.leaked);
  const alive = current.filter((h) => hasProcess(h.state));
  if (places.length > 1 && leaked.length)
    return `${ip} is answered from ${places.length} places: ${live.length ? `the live ${live.map((p) => `${p.owner ?? p.netns} on ${p.host}`).join(' and ')} and ` : ''}${leaked.length === 1 ? 'a leaked namespace' : `${leaked.length} leaked namespaces`} (${leaked.map((p) => `${p.owner ?? p.netns} on ${p.host}`).join('; ')}), which still answer ARP for it: release the leaked one${leaked.length === 1 ? '' : 's'}.`;
  if (places.length > 1) return `${ip} is configured in ${places.length} live places (${places.map((p) => `${p.netns} on ${p.host}`).join('; ')}): two workloads share one address.`;
  if (places.length === 1 && leaked.length) return `${ip} lives on only in a leaked namespace on ${leaked[0].host}${current.length ? `; it was last given to ${current.map(who).join(', ')}` : ''}.`;
  if (places.length === 1) return `${ip} is configured once, in ${places[0].owner ?? places[0].netns} on ${places[0].host}${alive.length ? `, held by ${alive.map(who).join(', ')}` : ''}.`;
  if (current.length) return `${ip} is not configured in any namespace in the evidence; it was last given to ${current.map(who).join(', ')}.`;
  return `Nothing in the evidence holds ${ip} now.`;
}
