import type { Link } from '../src/model/facts.js';
import type { HostModel, Netns } from '../src/model/host.js';
import { netnsId } from '../src/model/host.js';
import { configuredAddrs, defineRule, type Finding, hostPeers, isLeaked, namedByHand, netnsName, netnsSubject, uniqueEvidence } from '../src/engine/rule.js';
import { releaseCommands } from './netns-leaked.js';
import { shellQuote } from '../src/util.js';

/** Host-side links whose peer is in `n`: paired by ifindex, or named by `link-netns <name>` / `link-netnsid <id>`. */
export function hostEndsOf(host: HostModel, n: Netns): { link: Link; how: string }[] {
  const out: { link: Link; how: string }[] = [];
  for (const p of hostPeers(host, n)) out.push({ link: p.outer, how: `its peer ${p.inner.name} (ifindex ${p.inner.ifindex}) is inside, and each names the other's ifindex` });
  const hostNs = [...host.netns.values()].find((x) => x.isHost);
  if (!hostNs) return out;
  const names = new Set(n.paths.filter((p) => p.startsWith('/run/netns/')).map((p) => p.slice('/run/netns/'.length)));
  const nsids = new Set([...host.netnsNames].filter(([name, v]) => names.has(name) && v.nsid !== undefined).map(([, v]) => v.nsid!));
  for (const v of hostNs.views)
    for (const l of v.links) {
      if (out.some((o) => o.link.ifindex === l.ifindex && o.link.name === l.name)) continue;
      if (l.linkNetns && names.has(l.linkNetns)) out.push({ link: l, how: `ip link shows link-netns ${l.linkNetns}, the name of this namespace under /run/netns` });
      else if (l.linkNetnsid !== undefined && nsids.has(l.linkNetnsid)) out.push({ link: l, how: `ip link shows link-netnsid ${l.linkNetnsid}, which \`ip netns\` gives to this namespace` });
    }
  return out;
}

export default defineRule({
  id: 'veth-dangling',
  severity: 'warning',
  summary: 'A host veth whose peer lives in a leaked namespace',
  needs: [{ anyOf: ['netnsView'], what: '`ip -d link` / `ip -d addr` on the host (and inside namespaces)', collect: 'ip -d addr; ip netns list-id; forensics collect' }],
  explain: {
    detects: 'An interface in the host namespace paired with one inside a namespace that has no process but is still held (netns-leaked): by matching ifindex/peer index, by `link-netns <name>`, or by `link-netnsid` and `ip netns list-id`.',
    matters: 'The host end stays in the bridge or routing table, so traffic for the old pod\'s address is still delivered into the dead namespace: it answers ping and ARP (the weave-style zombie), and the interface name and address cannot be reused.',
    fix: 'Release the namespace (netns-leaked): the veth pair disappears with it. If the namespace must stay for forensics, take the host end down (ip link set <veth> down) or delete it (ip link del <veth>).',
    reference: 'weaveworks-experiments/weave-kube#32; canonical/lxd#9728; the seed incident',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      for (const n of [...host.netns.values()].sort((a, b) => a.key.localeCompare(b.key))) {
        // A namespace kept by hand (`ip netns add`) is wired to the host on purpose: netns-leaked tells it, once.
        if (!isLeaked(n) || namedByHand(host, n)) continue;
        const ends = hostEndsOf(host, n).sort((a, b) => a.link.name.localeCompare(b.link.name));
        if (!ends.length) continue;
        const addrs = configuredAddrs(n);
        for (const e of ends) {
          const up = e.link.flags.includes('UP');
          findings.push({
            rule: 'veth-dangling',
            severity: 'warning',
            host: host.name,
            title: `Host interface ${e.link.name} leads into the leaked namespace ${netnsId(n)}${addrs.length ? `, which still answers for ${addrs.map((a) => a.ip).join(', ')}` : ''}`,
            detail: [
              `${e.link.name} (ifindex ${e.link.ifindex}${e.link.type ? `, ${e.link.type}` : ''}, ${up ? 'UP' : 'down'}) is in the host namespace; ${e.how}.`,
              `${/^net:/.test(netnsName(n)) ? `The namespace ${netnsName(n)}` : netnsName(n).replace(/^./, (c) => c.toUpperCase())} has no process left, yet something holds it, so the pair lives on.`,
              addrs.length && up ? 'Traffic for those addresses is still delivered through this interface: ping and ARP get answers from a namespace nothing runs in.' : '',
            ].filter(Boolean).join(' '),
            ips: [...new Set(addrs.map((a) => a.ip))].sort(),
            containers: n.containers.map((c) => ({ id: c.id, name: c.name, pod: c.pod, state: c.state })),
            netns: [netnsSubject(n)],
            pinnedBy: [],
            evidence: uniqueEvidence([e.link.ev, ...addrs.slice(0, 2).map((a) => a.ev)]),
            remediation: [...releaseCommands(host, n).filter((c) => !c.startsWith('ip link show')), `ip link del ${shellQuote(e.link.name)}   # only if the namespace must be kept; deleting one end removes the pair`],
          });
        }
      }
    }
    return findings;
  },
});
