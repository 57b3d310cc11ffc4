import type { Container, HostModel, IpClaim, Netns } from '../src/model/host.js';
import { containerLabel, findContainer, netnsId, podName } from '../src/model/host.js';
import { normalisePath } from '../src/model/facts.js';
import { sameId } from '../src/model/build.js';
import { configuredAddrs, defineRule, type Finding, findingContainer, isLeaked, namespacesWithIp, netnsName, netnsSubject, uniqueEvidence, when } from '../src/engine/rule.js';
import { releaseCommands } from './netns-leaked.js';
import { pushTo } from '../src/util.js';

/** The claims whose container owns namespace `n`: by the container's netns, or by the netns path its ADD was given. */
function ownersOf(host: HostModel, n: Netns, claims: IpClaim[]): IpClaim[] {
  return claims.filter((k) => {
    const c = findContainer(host, k.containerId);
    if (c?.netnsKey) return c.netnsKey === n.key;
    return !!k.netnsPath && n.paths.includes(normalisePath(k.netnsPath));
  });
}

function label(host: HostModel, k: IpClaim): { text: string; container?: Container } {
  const c = findContainer(host, k.containerId);
  if (c) return { text: containerLabel(c), container: c };
  return { text: `${k.containerId.slice(0, 12)}${k.pod ? ` (pod ${podName(k.pod, k.podNamespace)})` : ''}${host.has.has('container') ? ', not in the inventory' : ''}` };
}

/**
 * Why the address was released while still configured, when the logs say: the runtime lost the netns path before DEL
 * (kubelet: "CNI failed to retrieve network namespace path"), or a teardown of the holder's sandbox failed.
 */
function whyReleased(host: HostModel, k: IpClaim): { text: string; ev: IpClaim['ev'] } | undefined {
  const mine = host.sandboxEvents.filter((e) => e.sandboxId && sameId(e.sandboxId, k.containerId));
  const lost = mine.find((e) => e.event === 'stop' && /network namespace path|cannot find network namespace/i.test(e.message));
  if (lost)
    return { text: `Why: at ${when(host, lost.at)} ${lost.daemon} could not find that sandbox's netns path, so the plugin's DEL ran without the namespace: it released the address in IPAM but could not reach the interface that holds it.`, ev: lost.ev };
  const failed = mine.find((e) => e.event === 'teardown-failed');
  if (failed) return { text: `Why: the network teardown of that sandbox failed (${failed.daemon} at ${when(host, failed.at)}: ${failed.err ?? failed.message}), so its namespace and interface were never removed.`, ev: failed.ev };
  return undefined;
}

/** "656d26301597 (pod shop/checkout-7hm4t)": who, without the state, for a title. */
function short(host: HostModel, k: IpClaim): string {
  const c = findContainer(host, k.containerId);
  const pod = podName(c?.pod ?? k.pod, c?.podNamespace ?? k.podNamespace);
  return `${k.containerId.slice(0, 12)}${pod ? ` (pod ${pod})` : ''}`;
}

export default defineRule({
  id: 'ip-reused-while-live',
  severity: 'error',
  summary: 'An IP handed to a new container while an earlier holder still had it configured',
  needs: [
    { anyOf: ['cniOp', 'container', 'ipReservation'], what: 'IP claims (CNI plugin log, runtime inventory or IPAM store)', collect: 'cat /var/log/cni/*.log; docker inspect $(docker ps -aq); crictl inspectp $(crictl pods -q)' },
    { anyOf: ['netnsView'], what: '`ip addr` inside the namespaces, to see where an address is still configured', collect: 'forensics collect (it enters every namespace it finds)' },
  ],
  explain: {
    detects: 'An address configured today in a namespace that belonged to an earlier holder, while a later CNI ADD (or the inventory) gave the same address to another container. Because the address is configured now and was configured when the earlier holder got it, it was configured at the moment the new holder got it too.',
    matters: 'IPAM handed out an address it believed free while it was still answering on the wire: two interfaces with one IP in one L2 segment. ARP replies race, so clients reach the old, dead namespace some of the time: the "ARP goes to the wrong place" symptom (containernetworking/plugins#718, projectcalico/calico#6968).',
    fix: 'Release the earlier holder\'s namespace (see netns-leaked); then flush the stale ARP entries on the neighbours (ip neigh flush to <ip>) so the new holder is reached.',
    reference: 'containernetworking/plugins#718; projectcalico/calico#6968; containernetworking/cni#88; the seed incident',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      const byIp = new Map<string, IpClaim[]>();
      for (const k of host.claims) pushTo(byIp, k.ip, k);
      for (const [ip, claims] of [...byIp].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
        if (claims.length < 2) continue;
        const timed = claims.filter((k) => k.at !== undefined).sort((a, b) => a.at! - b.at!);
        for (const n of namespacesWithIp(host, ip)) {
          if (n.isHost) continue;
          const owners = ownersOf(host, n, timed);
          // The earlier holder is the claim whose container owns this namespace, or whose ADD was given its path.
          const earlier = owners[0];
          if (!earlier) continue;
          const later = timed.filter((k) => k.at! > earlier.at! && k.containerId.slice(0, 12) !== earlier.containerId.slice(0, 12) && !ownersOf(host, n, [k]).length);
          if (!later.length) continue;
          const first = later[0];
          const a = label(host, earlier);
          const b = label(host, first);
          const addr = configuredAddrs(n).find((x) => x.ip === ip);
          const elsewhere = namespacesWithIp(host, ip).filter((m) => m !== n && !m.isHost);
          const why = whyReleased(host, earlier);
          findings.push({
            rule: 'ip-reused-while-live',
            severity: 'error',
            host: host.name,
            title: `At ${when(host, first.at)}, ${ip} was given to ${short(host, first)} while ${short(host, earlier)} still had it configured`,
            detail: [
              `${a.text} got ${ip} at ${when(host, earlier.at)}${earlier.released ? `; its release was logged at ${when(host, earlier.released.at)}, but the address was never removed` : '; no release of it was logged'}.`,
              `The address is still configured in its namespace ${netnsName(n)}${addr ? ` on ${addr.ifname}` : ''}${isLeaked(n) ? ', which has no process left' : ''}: so it was live there when IPAM handed it to ${b.text}${later.length > 1 ? ` (and later to ${later.length - 1} more)` : ''}.`,
              why?.text ?? '',
              elsewhere.length ? `It is configured at the same time in ${elsewhere.map(netnsName).join(', ')}: two interfaces answer ARP for one address, and clients reach the wrong one some of the time.` : 'Two interfaces then answered ARP for one address; clients reach the wrong one some of the time.',
            ].filter(Boolean).join(' '),
            ips: [ip],
            containers: [a, b].map((x, k) => (x.container ? findingContainer(x.container) : { id: (k ? first : earlier).containerId, state: host.has.has('container') ? 'gone' : 'unknown' })),
            netns: [netnsSubject(n), ...elsewhere.map(netnsSubject)],
            pinnedBy: [],
            evidence: uniqueEvidence([earlier.ev, ...(earlier.released ? [earlier.released.ev] : []), ...(why ? [why.ev] : []), first.ev, ...(addr ? [addr.ev] : [])]),
            remediation: [
              ...(isLeaked(n) ? releaseCommands(host, n) : [`# ${netnsId(n)} still has processes: stop what runs in it, or remove the address: nsenter --net=<path> ip addr del ${ip}/${addr?.prefix ?? 32} dev ${addr?.ifname ?? '<if>'}`]),
              `ip neigh flush to ${ip}   # on the node and on peers that cached the old MAC`,
            ],
          });
        }
      }
    }
    return findings;
  },
});
