import type { Container, HostModel, MountNamespace, MountPin } from '../src/model/host.js';
import { normalisePath } from '../src/model/facts.js';
import { containerLabel, netnsId } from '../src/model/host.js';
import { defineRule, type Finding, findingContainer, isLeaked, mntnsName, netnsSubject, uniqueEvidence } from '../src/engine/rule.js';
import { pinnersOf } from './netns-leaked.js';
import { pushTo, shellQuote } from '../src/util.js';

// Host directories whose bind mount (recursive, as docker and kubelet make them) copies the runtime's netns mounts in.
const RUN_DIRS = /^(?:\/|\/run|\/var\/run|\/run\/netns|\/var\/run\/netns|\/run\/docker|\/var\/run\/docker|\/run\/docker\/netns|\/var\/run\/docker\/netns|\/var|\/run\/containerd|\/var\/run\/containerd)\/?$/;

/** Containers whose processes live in mount namespace `m`: a container's pid in it, or a process in it sharing a sandbox's netns. */
function containersIn(host: HostModel, m: MountNamespace): Container[] {
  const pids = new Set(m.pids);
  const out = new Set<Container>();
  for (const c of host.containers.values()) if (c.pid && pids.has(c.pid)) out.add(c);
  for (const n of host.netns.values()) if (!n.isHost && n.members.some((p) => pids.has(p))) n.containers.forEach((c) => out.add(c));
  return [...out].sort((a, b) => a.id.localeCompare(b.id));
}

export default defineRule({
  id: 'hostpath-run-pin',
  severity: 'warning',
  summary: 'A netns pinned by the mount namespace of a container that bind-mounted the host\'s /run, /var/run or /',
  needs: [
    { anyOf: ['nsMount'], what: 'mountinfo of the processes (nsfs mounts per mount namespace)', collect: 'for p in /proc/[0-9]*; do echo "== $p"; cat $p/mountinfo; done' },
    { anyOf: ['container'], what: 'the container inventory with pids and mounts', collect: 'docker inspect $(docker ps -aq); for id in $(crictl ps -aq); do crictl inspect "$id"; done   (their mounts name the host paths each container binds)' },
  ],
  explain: {
    detects: 'A leaked network namespace whose bind mount is held in the mount namespace of a running container (not the host\'s, not the daemon\'s), where that container mounts a host directory that contains the runtime\'s netns folder: /run, /var/run, /run/netns, /run/docker, / and the like.',
    matters: 'A recursive bind of the host\'s /run copies every netns mount that exists when the container starts into its private mount namespace. When the runtime later unmounts its own copy, the container\'s copy keeps the namespace alive with its interfaces and addresses, and on old kernels the netns file cannot even be removed (EBUSY): pods stick in Terminating (containerd/containerd#3667, weave-kube agents, node exporters, CSI plugins).',
    fix: 'Unmount the copy inside that container\'s mount namespace (nsenter -t <pid> -m umount <path>), and change the container to mount the host path with mountPropagation HostToContainer (rslave) or to mount only what it needs; restarting the container releases every copy it holds.',
    reference: 'containerd/containerd#3667; moby/moby#32712; clearcontainers/runtime#716',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      for (const n of [...host.netns.values()].sort((a, b) => a.key.localeCompare(b.key))) {
        if (!isLeaked(n)) continue;
        // One finding per holding mount namespace, however many copies (paths) it has.
        const byMntns = new Map<string, MountPin[]>();
        for (const pin of n.mounts) pushTo(byMntns, pin.mntns.key, pin);
        for (const pins of byMntns.values()) {
          const pin = pins[0];
          if (pin.mntns.isHost || pin.mntns.isDaemon) continue;
          const holders = containersIn(host, pin.mntns).filter((c) => c.state === 'running' || c.state === 'paused' || c.state === 'restarting');
          if (!holders.length) continue;
          // The bind that brought the copy in: the one whose destination holds a pinned path, else any run-directory bind.
          const bindOf = (c: Container) => {
            const runBinds = (c.binds ?? []).filter((b) => RUN_DIRS.test(b.source));
            const dest = (b: { destination: string }) => normalisePath(b.destination);
            return runBinds.filter((b) => pins.some((p) => p.path === dest(b) || p.path.startsWith(`${dest(b) === '/' ? '' : dest(b)}/`))).sort((a, b) => dest(b).length - dest(a).length)[0] ?? runBinds[0];
          };
          const withBind = holders.map((c) => ({ c, bind: bindOf(c) }));
          const named = withBind.filter((x) => x.bind);
          // Without the container's mounts the path is the clue: its nsfs copy sits under a host path mounted in (e.g. /host/run/netns/…).
          const prefixed = pins.some((p) => /^\/.+\/(?:run|var\/run)\/(?:netns|docker\/netns)\//.test(p.path));
          if (!named.length && !prefixed && holders.every((c) => c.binds !== undefined)) continue;
          const main = (named[0] ?? withBind[0]).c;
          const bind = named[0]?.bind;
          const pid = pin.mntns.pids[0];
          findings.push({
            rule: 'hostpath-run-pin',
            severity: 'warning',
            host: host.name,
            title: `Container ${containerLabel(main)} holds ${netnsId(n)} through its mount of the host's ${bind ? bind.source : 'run directory'}`,
            detail: [
              `The namespace has no process; it is kept alive by ${pins.length === 1 ? 'a bind mount' : `${pins.length} bind mounts`} at ${pins.map((p) => p.path).join(' and ')} in ${mntnsName(pin.mntns)}, which belongs to ${holders.map(containerLabel).join('; ')}.`,
              bind
                ? `That container mounts the host's ${bind.source} at ${bind.destination}: the recursive bind copied the runtime's netns mounts into its mount namespace when it started, and the copy outlived the runtime's own.`
                : prefixed
                  ? `The path shows a host run directory mounted into the container: its recursive bind copied the runtime's netns mounts in when it started.`
                  : 'Its mounts are not in the bundle; a mount of the host\'s /run, /var/run or / is the usual way such a copy gets there.',
            ].join(' '),
            ips: [],
            containers: holders.map(findingContainer),
            netns: [netnsSubject(n)],
            pinnedBy: pinnersOf(host, n).filter((p) => p.kind === 'mount' && p.mntns === (pin.mntns.inode ? `mnt:[${pin.mntns.inode}]` : pin.mntns.key)),
            evidence: uniqueEvidence([...pins.flatMap((p) => p.ev.slice(0, 1)), main.ev]),
            remediation: [
              ...pins.map((p) => `nsenter -t ${pid} -m umount ${shellQuote(p.path)}   # releases ${pins.length > 1 ? 'a' : 'the'} copy held by the container`),
              `# then mount the host path into ${main.name ?? main.id.slice(0, 12)} with propagation rslave (mountPropagation: HostToContainer), or only the subdirectory it needs`,
            ],
          });
        }
      }
    }
    return findings;
  },
});
