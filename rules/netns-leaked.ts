import { shellQuote } from '../src/util.js';
import { type Evidence } from '../src/model/facts.js';
import type { Container, HostModel, Netns } from '../src/model/host.js';
import { containerLabel, findContainer, hasProcess, isKernelThread, isRootlessPodmanPause, netnsId, podName } from '../src/model/host.js';
import { sameId } from '../src/model/build.js';
import {
  apiPodsWithIp, apiPodText, commandOf, configuredAddrs, defineRule, type Finding, findingContainer, hostPeers, isLeaked, iso, mntnsName, namedByHand, neighborsOf, netnsName, netnsSubject, type Pinner, uniqueEvidence, when,
} from '../src/engine/rule.js';

const MAX_PIDS_IN_TEXT = 8;

export function pinnersOf(host: HostModel, n: Netns): Pinner[] {
  const out: Pinner[] = [];
  for (const m of n.mounts)
    // The host's mount namespace is shared by every ordinary process of the host: its oldest (pid 1) stands for it.
    // Listing them all named hundreds of "pinners" on a real node, none of which holds anything of its own.
    for (const pid of m.mntns.isHost ? m.mntns.pids.slice(0, 1) : m.mntns.pids) {
      const p = host.processes.get(pid);
      out.push({ kind: 'mount', pid, ppid: p?.ppid, command: commandOf(p), started: iso(p?.started), mntns: m.mntns.inode ? `mnt:[${m.mntns.inode}]` : m.mntns.key, path: m.path });
    }
  for (const f of n.fds) {
    const p = host.processes.get(f.pid);
    out.push({ kind: 'fd', pid: f.pid, ppid: p?.ppid, command: commandOf(p), started: iso(p?.started), fd: f.fd });
  }
  return out;
}

/** Commands that release a leaked namespace, one per pinning mount namespace and per fd holder. */
export function releaseCommands(host: HostModel, n: Netns): string[] {
  const cmds: string[] = [];
  // The host's own mount first; a copy that is a slave of it (master:N of its shared:N) goes with its unmount.
  const hostGroups = new Set(n.mounts.filter((m) => m.mntns.isHost).flatMap((m) => /\bshared:(\d+)/.exec(m.propagation)?.[1] ?? []));
  for (const m of [...n.mounts].sort((a, b) => Number(b.mntns.isHost) - Number(a.mntns.isHost))) {
    const pid = m.mntns.pids[0];
    const path = shellQuote(m.path);
    const master = /\bmaster:(\d+)/.exec(m.propagation)?.[1];
    if (m.mntns.isHost) {
      cmds.push(`nsenter --net=${path} ip -d addr   # check what is still inside`);
      cmds.push(`umount ${path} && rm -f ${path}`);
    } else if (master !== undefined && hostGroups.has(master)) {
      cmds.push(`nsenter -t ${pid} -m umount ${path}   # only if still mounted there: the copy in ${mntnsName(m.mntns)} is a slave of the host's mount and goes with it`);
    } else {
      cmds.push(`nsenter -t ${pid} -m nsenter --net=${path} ip -d addr   # check what is still inside, seen from pid ${pid}'s mount namespace`);
      cmds.push(`nsenter -t ${pid} -m umount ${path}   # releases the copy held by ${mntnsName(m.mntns)}`);
    }
  }
  for (const p of hostPeers(host, n)) cmds.push(`ip link show ${shellQuote(p.outer.name)}   # gone once the namespace is released; if not, ip link del ${shellQuote(p.outer.name)}`);
  for (const f of n.fds) {
    const cmd = commandOf(host.processes.get(f.pid));
    cmds.push(`ls -l /proc/${f.pid}/fd/${f.fd}   # pid ${f.pid}${cmd ? ` (${cmd})` : ''} holds the namespace open: restart that process or its service to close it`);
  }
  return cmds;
}

/**
 * Its addresses claimed by another container (an inventory, a CNI ADD): the one the address was given to next, or an
 * owner the bundle could not tie to the namespace.
 */
function rivalsText(host: HostModel, ips: string[], owners: Container[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  let live = false;
  for (const k of host.claims) {
    if (!ips.includes(k.ip) || k.released || owners.some((o) => sameId(o.id, k.containerId)) || seen.has(`${k.ip} ${k.containerId}`)) continue;
    seen.add(`${k.ip} ${k.containerId}`);
    const c = findContainer(host, k.containerId);
    live ||= !!c && hasProcess(c.state);
    parts.push(`${k.ip} is also claimed by container ${c ? containerLabel(c) : k.containerId.slice(0, 12)}`);
  }
  return parts.length ? ` ${parts.join('; ')}${live ? ': two namespaces answer for it (see ip-conflict)' : ''}.` : '';
}

/** Neighbour tables (of any host, or another namespace) that map one of its addresses to its interface's MAC. */
function answeredFor(hosts: readonly HostModel[], n: Netns, addrs: ReturnType<typeof configuredAddrs>): { text: string; ev: Evidence[] } {
  const parts: string[] = [];
  const ev: Evidence[] = [];
  for (const a of addrs)
    for (const { entry, table } of a.mac ? neighborsOf(hosts, a.ip) : []) {
      if (entry.mac !== a.mac || entry.netns === n) continue;
      parts.push(`the ${table} maps ${a.ip} to ${a.mac}, its ${a.ifname}`);
      ev.push(entry.ev);
    }
  return { text: parts.length ? ` It still answers ARP: ${parts.join('; ')}.` : '', ev };
}

/** What the API server says of its addresses, when a pod list is in the run. */
function apiText(hosts: readonly HostModel[], ips: string[], owners: Container[]): { text: string; ev: Evidence[] } {
  const parts: string[] = [];
  const ev: Evidence[] = [];
  for (const ip of ips)
    for (const p of apiPodsWithIp(hosts, ip)) {
      const own = owners.some((c) => c.pod === p.pod && (!p.podNamespace || !c.podNamespace || c.podNamespace === p.podNamespace));
      parts.push(own ? `The API server still lists its pod with ${ip}: ${apiPodText(p)}.` : `The API server gives ${ip} to ${apiPodText(p)}: this copy answers for a live pod's address.`);
      ev.push(p.ev);
    }
  return { text: parts.length ? ` ${parts.join(' ')}` : '', ev };
}

function pinText(host: HostModel, n: Netns): string {
  const parts: string[] = [];
  for (const m of n.mounts) {
    const pids = m.mntns.pids;
    const kernel = m.mntns.kernelThreads ? ` and ${m.mntns.kernelThreads} kernel thread${m.mntns.kernelThreads === 1 ? '' : 's'}` : '';
    if (m.mntns.isHost) {
      // Without mnt links only pid 1 is known to be in it (a mount table printed from a host shell).
      const seen = !m.mntns.inode ? 'seen by every process that did not move to a mount namespace of its own' : `seen by ${pids.length === 1 ? 'the one process' : pids.length === 2 ? 'both processes' : `all ${pids.length} processes`}${kernel} of the host`;
      parts.push(`a bind mount at ${m.path} in ${mntnsName(m.mntns)}, ${seen}`);
      continue;
    }
    const pause = pids.find((pid) => isRootlessPodmanPause(host.processes.get(pid)));
    if (pause !== undefined) {
      parts.push(`a bind mount at ${m.path} in ${mntnsName(m.mntns)}, rootless podman's own mount namespace (pid ${pause}, its pause process ${commandOf(host.processes.get(pause)) ?? 'catatonit -P'}): rootless podman mounts each container's namespace there and unmounts it when it tears the container's network down, which did not happen for this one (as that user, \`podman unshare umount ${m.path}\` does what the nsenter below does)`);
      continue;
    }
    const shown = pids.slice(0, MAX_PIDS_IN_TEXT).map((pid) => {
      const p = host.processes.get(pid);
      const cmd = commandOf(p);
      return `${pid}${cmd ? ` ${cmd.split(' ')[0]}` : ''}${p?.started !== undefined ? ` started ${when(host, p.started)}` : ''}${p?.ppid !== undefined ? ` ppid ${p.ppid}` : ''}`;
    });
    const more = pids.length > MAX_PIDS_IN_TEXT ? `, and ${pids.length - MAX_PIDS_IN_TEXT} more` : '';
    parts.push(`a bind mount at ${m.path} in ${mntnsName(m.mntns)}, shared by ${pids.length} process${pids.length === 1 ? '' : 'es'}${kernel} (oldest first: ${shown.join('; ')}${more})`);
  }
  for (const f of n.fds) {
    const cmd = commandOf(host.processes.get(f.pid));
    parts.push(`open fd ${f.fd} of pid ${f.pid}${cmd ? ` (${cmd})` : ''}`);
  }
  return parts.join('; ');
}

export default defineRule({
  id: 'netns-leaked',
  severity: 'error',
  summary: 'A network namespace with no process in it is kept alive by a bind mount or an open fd',
  needs: [
    { anyOf: ['nsLink'], what: '/proc/<pid>/ns/net links of every process (to know which namespaces have a process)', collect: 'ls -l /proc/*/ns/net' },
    { anyOf: ['parser:mountinfo', 'parser:findmnt', 'parser:lsns-json', 'parser:lsns-table', 'fdLink', 'parser:ns-listing'], what: 'mount tables or fd links (to see what pins a namespace)', collect: "awk '$9 == \"nsfs\" {print FILENAME,$0}' /proc/*/mountinfo" },
  ],
  explain: {
    detects: 'A network namespace that no process is a member of, yet still exists because an nsfs bind mount (in some mount namespace) or an open file descriptor refers to it. A warning, not an error, when it is empty or named by hand (no container or CNI call owns it, and no runtime gives its name); namespaces that hold no process by design (dockerd\'s overlay sandboxes, rootless podman\'s rootless-netns, Neutron\'s qrouter-) are not reported.',
    matters: 'The namespace keeps its interfaces and addresses: a veth on the host bridge, an IP that still answers ARP. When that IP is given to a new pod, traffic goes to the ghost ("ping works, port doesn\'t"). Tools that walk /proc/<pid>/ns/net never see it.',
    fix: 'Unmount the netns file in every mount namespace that holds it (nsenter -t <pid> -m umount <path>) and restart any process that holds it as an fd; the kernel frees the namespace, its veth and its addresses with the last reference.',
    reference: 'moby/moby#32712; containerd/containerd#3667; clearcontainers/runtime#716; the seed incident (shared/SEED-INCIDENT.md)',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      // Whose network namespace the bundle shows, and who else it lists (ps) without one: one of those may be inside.
      const known = new Set<number>();
      for (const n of host.netns.values()) for (const pid of n.members) known.add(pid);
      const unseen = [...host.processes.values()].filter((p) => !known.has(p.pid) && p.pid !== 1 && !isKernelThread(p.pid, p)).length;
      for (const n of host.netns.values()) {
        if (!isLeaked(n)) continue;
        const addrs = configuredAddrs(n);
        const ips = [...new Set(addrs.map((a) => a.ip))].sort();
        const veths = addrs.filter((a) => a.peerIfindex !== undefined).map((a) => `${a.ifname}@if${a.peerIfindex}`);
        const owners = n.containers;
        const inside = addrs.length
          ? ` It still has ${addrs.map((a) => `${a.ip}/${a.prefix} on ${a.ifname}${a.peerIfindex !== undefined ? (a.type === undefined || a.type === 'veth' ? ` (veth peer ifindex ${a.peerIfindex} on the host)` : ` (${a.type} on the host's ifindex ${a.peerIfindex})`) : ''}`).join(', ')}.`
          : n.views.length ? ' No routable address is configured in it.' : ' No `ip addr` taken inside it is in the bundle, so what it still holds is unknown.';
        const owner = owners.length ? ` It belonged to container ${owners.map(containerLabel).join('; ')}.` : '';
        const peers = hostPeers(host, n);
        // Seen inside, it holds nothing but lo, and no container ever owned it: `ip netns add` makes such namespaces on
        // purpose, and an empty one cannot answer for any address. Still told, as a warning, not an error.
        const empty = !addrs.length && !owners.length && n.views.some((v) => v.links.length > 0) && n.views.every((v) => v.links.every((l) => l.name === 'lo'));
        // A name no runtime gives, and nothing of a container's: `ip netns add` (a VPN, a VRF, a test) keeps such on purpose.
        const byHand = !empty && namedByHand(host, n);
        const heard = answeredFor(hosts, n, addrs);
        const api = apiText(hosts, ips, owners);
        const rivalText = rivalsText(host, ips, owners) + api.text + heard.text;
        const peerText = peers.length ? ` On the host, ${peers.map((p) => `${p.outer.name} (ifindex ${p.outer.ifindex}) is the other end of its ${p.inner.name}`).join('; ')}: traffic for its addresses goes into that veth.` : '';
        const evidence: Evidence[] = [
          ...n.mounts.flatMap((m) => m.ev),
          ...n.fds.map((f) => f.ev),
          ...addrs.map((a) => a.ev),
          ...owners.map((c) => c.ev),
          ...peers.map((p) => p.outer.ev),
          ...host.claims.filter((k) => ips.includes(k.ip) && !k.released).map((k) => k.ev),
          ...api.ev,
          ...heard.ev,
        ];
        findings.push({
          rule: 'netns-leaked',
          severity: empty || byHand ? 'warning' : 'error',
          host: host.name,
          title: `Network namespace ${netnsId(n)} has no process but is still alive${ips.length ? `, holding ${ips.join(', ')}` : empty ? ', empty' : ''}${owners[0]?.pod ? ` (pod ${podName(owners[0].pod, owners[0].podNamespace)})` : ''}`,
          detail:
            `None of the ${known.size} processes whose network namespace the bundle shows is in ${netnsName(n)}${unseen ? ` (${unseen} more process${unseen === 1 ? ' has' : 'es have'} no /proc/<pid>/ns/net link in the bundle: if one is inside, it has not leaked${n.inode ? `; \`ls -l /proc/*/ns/net | grep ${n.inode}\` tells` : ''})` : ''}, yet it exists, pinned by ${pinText(host, n)}.${inside}${owner}${rivalText}` +
            `${peerText || (veths.length ? ` Interfaces: ${[...new Set(veths)].join(', ')}.` : '')} A namespace lives as long as any mount or fd refers to it,` +
            (empty
              ? ' but this one holds only lo: it costs kernel memory, not traffic. `ip netns add` makes such namespaces on purpose, so check that nothing means to join it again before removing it.'
              : byHand
                ? ` so it keeps answering for its addresses although nothing runs in it. But no container the bundle knows owns it, and ${n.paths.join(', ')} is not a name a container runtime gives: \`ip netns add\` makes such namespaces on purpose (a VPN, a VRF, a test), and there no process is the normal state. Check that nothing means to keep it before releasing it.`
                : ' so it keeps answering for its addresses although nothing runs in it.'),
          ips,
          containers: owners.map(findingContainer),
          netns: [netnsSubject(n)],
          pinnedBy: pinnersOf(host, n),
          evidence: uniqueEvidence(evidence),
          remediation: releaseCommands(host, n),
        });
      }
    }
    return findings;
  },
});
