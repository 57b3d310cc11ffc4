import type { Evidence } from '../src/model/facts.js';
import type { HostModel, Netns, PodIp } from '../src/model/host.js';
import { containerLabel, isRoutableAddr } from '../src/model/host.js';
import { apiPodsWithIp, apiPodText, defineRule, isNode, type Finding, findingContainer, isLeaked, neighborsOf, netnsName, netnsSubject, uniqueEvidence } from '../src/engine/rule.js';
import { releaseCommands } from './netns-leaked.js';

interface Place {
  host: HostModel;
  netns: Netns;
  ifname: string;
  mac?: string;
  ev: Evidence;
}

/** Which copy answered ARP last, by the neighbour tables in the bundles: the MAC each maps the address to. */
function arpText(hosts: readonly HostModel[], ip: string, list: Place[]): { text: string; ev: Evidence[] } {
  const parts: string[] = [];
  const ev: Evidence[] = [];
  for (const { host, entry: n, table } of neighborsOf(hosts, ip)) {
    const at = list.find((p) => p.mac === n.mac);
    if (!at || list.some((p) => p.host === host && p.netns === n.netns)) continue; // a table of a copy's own namespace
    parts.push(`The ${table} maps ${ip} to ${n.mac} (${n.dev}${n.state ? `, ${n.state}` : ''}), the MAC of ${at.ifname} in ${netnsName(at.netns)} on ${at.host.name}${isLeaked(at.netns) ? ': its traffic for the address goes to the leaked copy' : ''}`);
    ev.push(n.ev);
  }
  return { text: parts.length ? ` ${parts.join('. ')}.` : '', ev };
}

function placeText(p: Place): string {
  const owner = p.netns.containers[0];
  const n = p.netns.members.length;
  const state = isLeaked(p.netns) ? 'no process: leaked' : p.netns.isHost ? 'the host namespace' : n ? `live, ${n} process${n === 1 ? '' : 'es'}` : 'processes unknown';
  return `${p.host.name}: ${netnsName(p.netns)} on ${p.ifname} (${state})${owner ? `, container ${containerLabel(owner)}` : ''}`;
}

/** Whether the bundle shows the API server's pod at one of the places: on its node, in its namespace. */
function apiVerdict(pod: PodIp, list: Place[]): string {
  const its = list.filter((p) => !!pod.node && isNode(p.host, pod.node) && (!p.netns.containers.length || p.netns.containers.some((c) => c.pod === pod.pod)) && !isLeaked(p.netns));
  if (its.length !== 1) return '';
  return `: that is the copy in ${netnsName(its[0].netns)} on ${its[0].host.name}; the other${list.length > 2 ? 's' : ''} should not have it`;
}

export default defineRule({
  id: 'ip-conflict',
  severity: 'error',
  summary: 'The same IP is live in two places: two namespaces on one host, or on two hosts',
  needs: [{ anyOf: ['netnsView'], what: '`ip addr` taken inside network namespaces', collect: 'nsenter -t <pid> -n ip -d addr (per namespace)' }],
  explain: {
    detects: 'An address configured, on an interface that answers ARP, in two different network namespaces of one host, or on two hosts of the same run when it is a pod IP (claimed through CNI).',
    matters: 'Both copies answer ARP; the network sends traffic to whichever answered last. That is the seed incident\'s "ping works, but the port does not": the ping is answered by the ghost.',
    fix: 'Find which copy is the stale one (usually a leaked namespace of a dead container) and release it; then flush ARP caches on the neighbours (ip neigh flush to <ip>) or wait for them to expire.',
    reference: 'containernetworking/plugins#718; projectcalico/calicoctl#1523; the seed incident',
  },
  evaluate(_run, hosts) {
    const places = new Map<string, Place[]>();
    for (const host of hosts)
      for (const n of host.netns.values()) {
        // A view from inside a container the inventory does not show (`docker exec web ip addr`) may be of a namespace
        // seen elsewhere too: it is not a place of its own.
        if (n.key.startsWith('container:')) continue;
        for (const v of n.views)
          for (const l of v.links)
            for (const a of l.addrs) {
              if (!isRoutableAddr(a.ip, a.scope, l)) continue;
              const list = places.get(a.ip) ?? [];
              if (!list.some((p) => p.host === host && p.netns === n)) list.push({ host, netns: n, ifname: l.name, mac: l.mac?.toLowerCase(), ev: a.ev });
              places.set(a.ip, list);
            }
      }
    // Across hosts only pod IPs count: bridge networks such as docker0's 172.17.0.0/16 repeat on every host by design.
    const podIps = new Set(hosts.flatMap((h) => h.claims.filter((k) => k.source !== 'inventory' || k.pod !== undefined).map((k) => k.ip)));
    const findings: Finding[] = [];
    for (const [ip, list] of [...places].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
      if (list.length < 2) continue;
      const hostsOf = new Set(list.map((p) => p.host));
      const sameHost = [...hostsOf].some((h) => list.filter((p) => p.host === h).length > 1);
      if (!sameHost && !podIps.has(ip)) continue;
      const leaked = list.filter((p) => isLeaked(p.netns));
      const live = list.filter((p) => !isLeaked(p.netns));
      const api = apiPodsWithIp(hosts, ip);
      const arp = arpText(hosts, ip, list);
      const apiText = api.length ? ` The API server (kubectl get pods -o wide) gives ${ip} to ${api.map(apiPodText).join(' and ')}${api.length === 1 ? apiVerdict(api[0], list) : ''}.` : '';
      const where = hostsOf.size > 1 ? `on ${hostsOf.size} hosts` : `in ${list.length} namespaces on ${list[0].host.name}`;
      findings.push({
        rule: 'ip-conflict',
        severity: 'error',
        host: [...hostsOf].map((h) => h.name).sort().join(', '),
        title: `${ip} is live ${where}${leaked.length ? `; ${leaked.length === 1 ? 'one copy is' : `${leaked.length} copies are`} in a namespace with no process` : ''}`,
        detail:
          `${ip} is configured in: ${list.map(placeText).join('; ')}. Each copy answers ARP for it, so neighbours send its traffic to whichever answered last: ping may work while connections to the real workload fail.` +
          (leaked.length && live.length ? ` The live workload is ${live.map(placeText).join('; ')}; the stale ${leaked.length === 1 ? 'copy is' : 'copies are'} the leaked namespace${leaked.length === 1 ? '' : 's'}.` : '') +
          arp.text +
          apiText,
        ips: [ip],
        containers: list.flatMap((p) => p.netns.containers.map(findingContainer)),
        netns: list.map((p) => netnsSubject(p.netns)),
        pinnedBy: [],
        evidence: uniqueEvidence([...list.map((p) => p.ev), ...arp.ev, ...api.map((p) => p.ev)]),
        remediation: [
          ...leaked.flatMap((p) => releaseCommands(p.host, p.netns).map((c) => (hostsOf.size > 1 ? `[${p.host.name}] ${c}` : c))),
          `ip neigh flush to ${ip}   # on neighbours and gateways, once only one copy is left`,
        ],
      });
    }
    return findings;
  },
});
