import type { Container, HostModel, IpClaim } from '../src/model/host.js';
import { aState, containerLabel, findContainer, netnsId, podName, removeCommand } from '../src/model/host.js';
import { configuredAddrs, defineRule, namespacesWithIp, type Finding, findingContainer, isLeaked, netnsName, netnsSubject, uniqueEvidence, when } from '../src/engine/rule.js';
import { pushTo } from '../src/util.js';

const MAX_EARLIER = 5;
const SOURCE_TEXT: Record<IpClaim['source'], string> = { cni: 'CNI ADD', inventory: 'runtime inventory', 'host-local': 'host-local IPAM reservation', 'libcni-cache': 'libcni result cache', 'azure-vnet': 'Azure CNI endpoint state' };
const NOT_ALIVE = new Set(['dead', 'exited', 'gone', 'removing', 'created']);

export function holderOf(host: HostModel, containerId: string): { container?: Container; state: string } {
  const c = findContainer(host, containerId);
  if (c) return { container: c, state: c.state };
  // Without a container inventory we cannot tell "gone" from "not listed".
  return { state: host.has.has('container') ? 'gone' : 'unknown' };
}

function claimText(host: HostModel, k: IpClaim): string {
  const { container, state } = holderOf(host, k.containerId);
  const who = container ? containerLabel(container) : `${k.containerId.slice(0, 12)}${k.pod ? ` (pod ${podName(k.pod, k.podNamespace)})` : ''}, state ${state}`;
  return `${who}, ${SOURCE_TEXT[k.source]}${k.at !== undefined ? ` at ${when(host, k.at)}` : ''}${k.released ? `, released${k.released.at !== undefined ? ` at ${when(host, k.released.at)}` : ''}` : ''}`;
}

export default defineRule({
  id: 'ip-last-holder',
  severity: 'warning',
  summary: 'Which container last held each IP, and whether a dead one still has it configured',
  needs: [{ anyOf: ['cniOp', 'container', 'ipReservation'], what: 'IP claims: CNI plugin ADD/DEL log lines, docker inspect / crictl inspectp, or the IPAM store', collect: 'cat /var/log/cni/*.log; docker inspect $(docker ps -aq); ls /var/lib/cni/networks/*' }],
  explain: {
    detects: 'For every IP the bundle shows being handed out, the latest claim not released (CNI ADD without DEL, docker inspect IPAddress), its container, pod and state, and the holders before it.',
    matters: 'When an IP answers from the wrong place, the first question is "who had it last?". If that container is dead or gone but the address is still configured on the host, something kept its namespace alive.',
    fix: 'If the last holder is dead and the IP is still configured, release the namespace that holds it (see netns-leaked) and remove the dead container (docker rm -f).',
    reference: 'containernetworking/cni#88; projectcalico/calico#6968; the seed incident',
  },
  evaluate(run, hosts) {
    const findings: Finding[] = [];
    // Open claims by IP on every host, once: per IP a scan of every host's claims was quadratic with several hosts.
    const openOn = new Map<string, [HostModel, IpClaim][]>();
    for (const h of run.hosts) for (const k of h.claims) if (!k.released) pushTo(openOn, k.ip, [h, k]);
    for (const host of hosts) {
      const byIp = new Map<string, IpClaim[]>();
      for (const k of host.claims) pushTo(byIp, k.ip, k);
      for (const [ip, claims] of [...byIp].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
        claims.sort((a, b) => (a.at ?? -Infinity) - (b.at ?? -Infinity));
        const open = claims.filter((k) => !k.released);
        const last = open[open.length - 1] ?? claims[claims.length - 1];
        const { container, state } = holderOf(host, last.containerId);
        const where = namespacesWithIp(host, ip);
        const earlier = claims.filter((k) => k !== last);
        const dropped = claims.reduce((n, k) => n + (k.droppedBefore ?? 0), 0); // claims the ledger counted but did not keep
        // On a busy node an IP passes through hundreds of pods: name the most recent, count the rest.
        const recent = earlier.slice(-MAX_EARLIER).reverse();
        const elsewhere = (openOn.get(ip) ?? []).filter(([h]) => h !== host).map(([h, k]) => `${h.name}: ${claimText(h, k)}`);
        const stale = !last.released && NOT_ALIVE.has(state) && where.length > 0;
        const whereText = where.map((n) => `${netnsName(n)}${isLeaked(n) ? ' (no process: leaked)' : n.isHost ? ' (the host namespace)' : ''}`).join('; ');
        const holder = container ? containerLabel(container) : `${last.containerId.slice(0, 12)}${last.pod ? ` (pod ${podName(last.pod, last.podNamespace)})` : ''}, state ${state}`;
        const title = last.released
          ? `${ip} is free: last held by ${holder}, released`
          : stale
            ? `${ip} was last given to ${holder}, yet it is still configured on ${host.name}`
            : `${ip} is held by ${holder}`;
        const detail = [
          `${last.released ? 'Last claim, since released' : 'Last claim not released'}: ${claimText(host, last)}.`,
          earlier.length
            ? `Earlier holders, most recent first${earlier.length + dropped > recent.length ? ` (${recent.length} of ${earlier.length + dropped})` : ''}: ${recent.map((k) => claimText(host, k)).join('; ')}.`
            : '',
          where.length ? `Configured now in ${whereText}.` : host.netns.size ? `No namespace in the bundle has it configured.` : '',
          stale ? `${aState(state).replace(/^a/, 'A')} container cannot be answering for its IP: whatever still has it configured outlived it.` : '',
          elsewhere.length ? `Also claimed on other hosts: ${elsewhere.join('; ')}.` : '',
        ].filter(Boolean).join(' ');
        findings.push({
          rule: 'ip-last-holder',
          severity: stale ? 'warning' : 'info',
          host: host.name,
          title,
          detail,
          ips: [ip],
          containers: container ? [findingContainer(container)] : [{ id: last.containerId, pod: last.pod ? `${podName(last.pod, last.podNamespace)}` : undefined, state }],
          netns: where.map(netnsSubject),
          pinnedBy: [],
          evidence: uniqueEvidence([
            ...[...recent].reverse().flatMap((k) => [k.ev, ...(k.released ? [k.released.ev] : [])]),
            last.ev,
            ...(last.released ? [last.released.ev] : []),
            ...(container ? [container.ev] : []),
            ...where.flatMap((n) => configuredAddrs(n).filter((a) => a.ip === ip).map((a) => a.ev)),
          ]),
          remediation: stale ? [`# see the netns-leaked finding for ${where.map(netnsId).join(', ')} to release the namespace`, ...(container ? [removeCommand(container, `remove the ${state} container once its namespace is released`)] : [])] : [],
        });
      }
    }
    return findings;
  },
});
