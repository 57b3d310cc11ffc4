import type { Evidence } from '../src/model/facts.js';
import type { HostModel, MountPin } from '../src/model/host.js';
import { isRootlessPodmanPause, netnsId } from '../src/model/host.js';
import { commandOf, configuredAddrs, defineRule, type Finding, findingContainer, isLeaked, mntnsName, netnsName, netnsSubject, uniqueEvidence, when } from '../src/engine/rule.js';
import { pinnersOf, releaseCommands } from './netns-leaked.js';

// MS_PRIVATE = 1<<18, MS_SLAVE = 1<<19 (older systemd prints MountFlags numerically)
const NUMERIC_FLAGS: Record<string, string> = { '262144': 'private', '524288': 'slave', '1048576': 'shared' };

export function mountFlagsValue(v: string): string {
  return NUMERIC_FLAGS[v] ?? v;
}

export function kernelBefore318(release: string | undefined): boolean | undefined {
  const m = release ? /^(\d+)\.(\d+)/.exec(release) : null;
  if (!m) return undefined;
  return Number(m[1]) < 3 || (Number(m[1]) === 3 && Number(m[2]) < 18);
}

function kernelNote(host: HostModel): string {
  const old = kernelBefore318(host.kernel?.release);
  if (old === true) return ` On this kernel (${host.kernel!.release}, before 3.18) the netns file cannot even be removed while another mount namespace still has it mounted (EBUSY), so removal fails and containers end up Dead.`;
  if (old === false) return ` On this kernel (${host.kernel!.release}, 3.18 or later) removing the netns file would detach the copies in other mount namespaces, so the file itself was left in place (a daemon that died or skipped cleanup).`;
  return ' Before kernel 3.18 the netns file cannot be removed while another mount namespace holds it (EBUSY); since 3.18 removing it detaches the copies, so a leak there also needs the file to stay.';
}

export default defineRule({
  id: 'mount-propagation-pin',
  severity: 'warning',
  summary: "Why a leaked netns is pinned: a copy of the daemon's mounts held by another mount namespace",
  needs: [
    { anyOf: ['nsLink'], what: '/proc/<pid>/ns/mnt links (to group processes by mount namespace)', collect: 'ls -l /proc/*/ns/mnt' },
    { anyOf: ['parser:mountinfo'], what: 'mount tables', collect: "awk '$9 == \"nsfs\" {print FILENAME,$0}' /proc/*/mountinfo" },
  ],
  explain: {
    detects: "A leaked network namespace whose bind mount survives only in a mount namespace that is neither the host's nor the current container daemon's: a copy taken when a process unshared its mount namespace (a daemon started with MountFlags=slave, a helper that outlived a daemon restart, a PrivateTmp service).",
    matters: 'The daemon unmounts the netns file in its own mount namespace only; copies elsewhere keep the namespace, its veth and IP alive until every process in that copy exits.',
    fix: 'Release the copies (nsenter -t <pid> -m umount <path>), then remove the cause: drop MountFlags=slave from the docker unit (systemctl edit docker; systemctl daemon-reload), and restart helpers that predate the daemon restart.',
    reference: 'moby/moby#22806 (MountFlags removed from the upstream unit); moby/moby#27381; docker/for-linux#124; the seed incident',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      const daemon = host.daemon;
      for (const n of host.netns.values()) {
        if (!isLeaked(n)) continue;
        // Rootless podman's own mount namespace is where it mounts its containers' namespaces: not a copy (netns-leaked says so).
        const foreign = n.mounts.filter((m) => !m.mntns.isHost && !m.mntns.isDaemon && m.mntns.inode !== undefined && !m.mntns.pids.some((pid) => isRootlessPodmanPause(host.processes.get(pid))));
        // Only when the copies are all that is left: while the host's or the daemon's own mount still holds it, that is
        // what keeps it (netns-leaked names every pin), and a copy that is a slave of it goes with its unmount.
        if (!foreign.length || n.mounts.some((m) => m.mntns.isHost || m.mntns.isDaemon)) continue;
        const evidence: Evidence[] = foreign.flatMap((m) => m.ev);
        const reasons: string[] = [];
        const flags = daemon?.mountFlags;
        const flagValue = flags ? mountFlagsValue(flags.value) : undefined;
        if (flags && (flagValue === 'slave' || flagValue === 'private')) {
          reasons.push(`The docker unit sets MountFlags=${flagValue} (${flags.ev.source}:${flags.ev.line}), so dockerd runs in a mount namespace of its own; its netns bind mounts are invisible on the host, and unmounting one there does not reach copies in other mount namespaces.`);
          evidence.push(flags.ev);
        }
        const older = (m: MountPin) => m.mntns.pids.filter((pid) => {
          const s = host.processes.get(pid)?.started;
          return s !== undefined && daemon?.started !== undefined && s < daemon.started;
        });
        const predating = foreign.flatMap(older);
        if (daemon?.started !== undefined && predating.length) {
          const first = host.processes.get(predating[0]);
          reasons.push(
            `dockerd${daemon.pid ? ` (pid ${daemon.pid})` : ''} started at ${when(host, daemon.started)}, after ${predating.length} of the pinning processes (oldest: pid ${predating[0]} ${(commandOf(first) ?? '').split(' ')[0]} at ${when(host, first?.started)}): they kept the mount namespace of the daemon that ran before the restart, with a copy of every netns mount that existed then.`,
          );
          if (daemon.startedEv) evidence.push(daemon.startedEv);
          if (first?.ev[0]) evidence.push(first.ev[0]);
        }
        for (const r of daemon?.restarts ?? []) evidence.push(r.ev);
        if (!reasons.length)
          reasons.push('No MountFlags setting or daemon restart in the bundle explains it: look for a service with PrivateTmp=, PrivateMounts= or its own `unshare -m` that started while the container was running (docker/for-linux#124).');
        if (host.kernel) evidence.push(host.kernel.ev);
        const pinning = foreign.map((m) => `${mntnsName(m.mntns)} (pids ${m.mntns.pids.slice(0, 5).join(', ')}${m.mntns.pids.length > 5 ? ', …' : ''}) at ${m.path}`).join('; ');
        findings.push({
          rule: 'mount-propagation-pin',
          severity: 'warning',
          host: host.name,
          title: `${netnsId(n)} is pinned by a mount namespace that is ${daemon?.mntns ? "neither the host's nor dockerd's" : "not the host's"}${flagValue === 'slave' || flagValue === 'private' ? ` (docker unit has MountFlags=${flagValue})` : ''}`,
          detail: `${netnsName(n)} survives only through ${pinning}. ${daemon?.mntns ? `dockerd's own mount namespace is ${mntnsName(daemon.mntns)}. ` : ''}${reasons.join(' ')}${kernelNote(host)}`,
          ips: [...new Set(configuredAddrs(n).map((a) => a.ip))].sort(),
          containers: n.containers.map(findingContainer),
          netns: [netnsSubject(n)],
          pinnedBy: pinnersOf(host, n).filter((p) => p.kind === 'mount' && foreign.some((m) => p.mntns === `mnt:[${m.mntns.inode}]`)),
          evidence: uniqueEvidence(evidence),
          remediation: [
            ...releaseCommands(host, { ...n, mounts: foreign, fds: [] }),
            ...(flagValue === 'slave' || flagValue === 'private'
              ? [`systemctl edit docker   # remove MountFlags=${flagValue} (set "MountFlags=" empty in the drop-in), then: systemctl daemon-reload; plan a daemon restart`]
              : []),
            ...(predating.length ? [`# processes started before the daemon restart keep the old mount table: restart them (oldest: pid ${predating[0]})`] : []),
          ],
        });
      }
    }
    return findings;
  },
});
