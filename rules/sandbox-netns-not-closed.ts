import { containerLabel, netnsId, removeCommand } from '../src/model/host.js';
import { configuredAddrs, defineRule, type Finding, findingContainer, netnsName, netnsSubject, uniqueEvidence } from '../src/engine/rule.js';
import { pinnersOf, releaseCommands } from './netns-leaked.js';
import { shellQuote } from '../src/util.js';

const ALIVE = new Set(['running', 'paused', 'restarting', 'unknown', 'created']);

export default defineRule({
  id: 'sandbox-netns-not-closed',
  severity: 'error',
  summary: 'A sandbox whose process is gone but whose network namespace was never closed, or whose netns file is still mounted',
  needs: [{ anyOf: ['container'], what: 'the runtime\'s view of its sandboxes (crictl inspectp, docker inspect)', collect: 'for id in $(crictl pods -q); do crictl inspectp "$id"; done; docker inspect $(docker ps -aq)' }],
  explain: {
    detects: 'A pod sandbox that is not running (crictl inspectp processStatus deleted/stopped, a dead or exited pause container) while the runtime says its namespace is not closed (netNamespaceClosed: false), or while its netns file is still a mount in the bundle\'s mountinfo.',
    matters: 'The runtime closes the namespace in StopPodSandbox after the CNI DEL. A sandbox stopped without that keeps its interfaces and addresses alive with no process behind them, and a sandbox whose netns cannot be removed ("device or resource busy") cannot be deleted at all: the pod sticks in Terminating (containerd/containerd#3667, #5954).',
    fix: 'Find what holds the netns file (another mount namespace with a copy of it, an open fd: see netns-leaked and mount-propagation-pin), release it, then remove the sandbox with crictl rmp -f so the runtime finishes its teardown.',
    reference: 'containerd/cri#479; containerd/containerd#3667; containerd/containerd#5954',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      for (const c of [...host.containers.values()].sort((a, b) => a.id.localeCompare(b.id))) {
        // Pod sandboxes only: a plain docker container's leaked namespace is netns-leaked's to report.
        if (!c.isSandbox || (c.runtime !== 'cri' && !c.pod) || ALIVE.has(c.state)) continue;
        const netns = c.netnsKey ? host.netns.get(c.netnsKey) : undefined;
        const mounted = netns?.mounts ?? [];
        const notClosed = c.netnsClosed === false;
        if (!notClosed && !mounted.length) continue;
        if (netns?.isHost) continue;
        const members = netns?.members ?? [];
        const addrs = netns ? configuredAddrs(netns) : [];
        const pinners = netns ? pinnersOf(host, netns) : [];
        findings.push({
          rule: 'sandbox-netns-not-closed',
          severity: 'error',
          host: host.name,
          title: `Sandbox ${containerLabel(c)} has no process, yet its network namespace ${netns ? netnsId(netns) : c.sandboxKey ?? ''} is ${notClosed ? 'not closed' : 'still mounted'}`,
          detail: [
            notClosed ? `The runtime reports netNamespaceClosed: false for it while its process is ${c.pid ? `pid ${c.pid}` : 'gone'} (state ${c.state}).` : `Its state is ${c.state}, yet its netns file is still mounted.`,
            c.sandboxKey ? `Netns path: ${c.sandboxKey}.` : '',
            netns ? `In the bundle that namespace is ${netnsName(netns)}${mounted.length ? `, mounted ${mounted.length === 1 ? 'once' : `${mounted.length} times`} (${[...new Set(mounted.map((m) => m.mntns.key))].join(', ')})` : ''}${members.length ? `; ${members.length} process${members.length > 1 ? 'es are' : ' is'} still inside it (pid ${members.slice(0, 5).join(', ')})` : '; no process is inside it'}.` : 'The namespace itself is not in the bundle (no mountinfo, no ns links for it): collect them to see what holds it.',
            addrs.length ? `Still configured in it: ${addrs.map((a) => `${a.ip}/${a.prefix} on ${a.ifname}`).join(', ')}.` : '',
            pinners.length ? `Held by: ${pinners.slice(0, 5).map((p) => `${p.kind === 'fd' ? `fd ${p.fd} of` : `a mount in ${p.mntns ?? '?'} of`} pid ${p.pid}${p.command ? ` (${p.command})` : ''}`).join('; ')}.` : '',
          ].filter(Boolean).join(' '),
          ips: [...new Set([...c.ips, ...addrs.map((a) => a.ip)])].sort(),
          containers: [findingContainer(c)],
          netns: netns ? [netnsSubject(netns)] : c.sandboxKey ? [{ paths: [c.sandboxKey] }] : [],
          pinnedBy: pinners,
          evidence: uniqueEvidence([c.ev, ...mounted.slice(0, 3).flatMap((m) => m.ev.slice(0, 1)), ...addrs.slice(0, 2).map((a) => a.ev)]),
          remediation: [
            ...(netns ? releaseCommands(host, netns) : c.sandboxKey ? [`umount ${shellQuote(c.sandboxKey)}   # then: rm ${shellQuote(c.sandboxKey)}`] : []),
            removeCommand(c, 'lets the runtime finish its teardown once nothing holds the namespace'),
          ],
        });
      }
    }
    return findings;
  },
});
