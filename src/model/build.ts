import type { Evidence, Fact, NetnsRef, SandboxEventKind, Stamp } from './facts.js';
import { normalisePath } from './facts.js';
import type { CniOp, Container, Daemon, Diagnostic, HostModel, IpClaim, Leftover, MountNamespace, Neighbor, Netns, Process, Reservation, SandboxEvent, TimelineEvent, UnitSetting } from './host.js';
import { findContainer, hasProcess, isKernelThread, netnsId, nodeMatches, podName, processlessBy } from './host.js';
import { type HostClock, isValidZone, offsetZone, resolveStamp } from '../timeline/time.js';
import { flat, pushAll, pushTo, shortId } from '../util.js';
import { idValue, inRun } from './id-set.js';

export interface ClockOptions {
  timezone?: string;
  year?: number;
  /** False: no timeline events (a report that shows none; a busy node has a hundred thousand). Default true. */
  events?: boolean;
}

export interface HostInput {
  name: string;
  sources: string[];
  facts: Fact[];
  parsers: Set<string>; // ids of the parsers that read this host's files
  latestMtime?: number; // newest entry mtime, a fallback collection time
}

function hostClock(facts: Fact[], input: HostInput, opts: ClockOptions, diags: Diagnostic[]): HostClock {
  const zones = facts.filter((f): f is Extract<Fact, { kind: 'timezone' }> => f.kind === 'timezone');
  const tz = zones.find((z) => isValidZone(z.zone)) ?? zones[0];
  const clock = facts.find((f) => f.kind === 'clock') as Extract<Fact, { kind: 'clock' }> | undefined;
  let zone = 'UTC';
  let zoneSource = 'assumed UTC';
  if (opts.timezone) {
    zone = opts.timezone;
    zoneSource = '--timezone';
  } else if (tz && isValidZone(tz.zone)) {
    zone = tz.zone;
    zoneSource = tz.ev.source;
  } else if (clock) {
    zone = offsetZone(clock.offsetMinutes);
    zoneSource = `offset in ${clock.ev.source}`;
  }
  if (tz && !isValidZone(tz.zone)) diags.push({ level: 'warning', source: tz.ev.source, message: `unknown time zone "${tz.zone}"; local times read as ${zone}` });
  let collectedAt: number | undefined;
  let collectedSource: string | undefined;
  if (clock) {
    collectedAt = clock.utc;
    collectedSource = clock.ev.source;
  } else if (input.latestMtime) {
    collectedAt = input.latestMtime;
    collectedSource = 'newest file time in the bundle';
  }
  return { zone, zoneSource, collectedAt, collectedSource, year: opts.year };
}

const DOCKERD = /(?:^|\/)(dockerd|dockerd-current)(?:\s|$)|(?:^|\/)docker(?:-current)? (?:daemon|-d)\b/;

const SANDBOX_WORDS: Record<SandboxEventKind, string> = {
  run: 'sandbox created',
  netns: 'network namespace named',
  'add-failed': 'network setup failed',
  stop: 'stopping',
  'teardown-ok': 'network torn down',
  'teardown-failed': 'network teardown failed',
  removed: 'sandbox removed',
};

export function buildHost(input: HostInput, opts: ClockOptions, diags: Diagnostic[]): HostModel {
  const facts = input.facts;
  const clock = hostClock(facts, input, opts, diags);
  const has = new Set<string>([...facts.map((f) => f.kind), ...[...input.parsers].map((p) => `parser:${p}`)]);
  const events: TimelineEvent[] = [];
  const resolve = (s: Stamp | undefined) => (s ? resolveStamp(s, clock) : undefined);
  const wantEvents = opts.events !== false;
  const event = (at: ReturnType<typeof resolve>, e: Omit<TimelineEvent, 'at' | 'how' | 'host'>) => {
    if (!wantEvents) return;
    // Field by field, one shape for every event: a spread made one per caller, 80 ms for a busy node's CNI log.
    if (at) events.push({ at: at.utc, how: at.how, host: input.name, kind: e.kind, message: flat(e.message), ev: e.ev, ip: e.ip, containerId: e.containerId, pod: e.pod, netns: e.netns, pid: e.pid });
  };
  let unresolved = 0;

  // Host identity
  const hostnames = facts.filter((f): f is Extract<Fact, { kind: 'hostname' }> => f.kind === 'hostname');
  const kernelFact = facts.find((f): f is Extract<Fact, { kind: 'kernel' }> => f.kind === 'kernel');

  // Processes
  const btime = facts.find((f): f is Extract<Fact, { kind: 'btime' }> => f.kind === 'btime');
  const hz = (facts.find((f): f is Extract<Fact, { kind: 'clockTicks' }> => f.kind === 'clockTicks')?.hz) ?? 100;
  const processes = new Map<number, Process>();
  const proc = (pid: number): Process => {
    let p = processes.get(pid);
    if (!p) processes.set(pid, (p = { pid, ev: [] }));
    return p;
  };
  const netOf = new Map<number, { inode: string; ev: Evidence }>();
  const mntOf = new Map<number, string>();
  for (const f of facts) {
    if (f.kind === 'process') {
      const p = proc(f.pid);
      if (f.ppid !== undefined) p.ppid = f.ppid;
      if (f.comm) p.comm = f.comm;
      if (f.args) p.args = f.args;
      p.ev.push(f.ev);
      const at = resolve(f.started);
      if (at) {
        p.started = at.utc;
        p.startedHow = 'ps lstart';
      } else if (f.startTicks !== undefined && btime && p.started === undefined) {
        p.started = (btime.epoch + f.startTicks / hz) * 1000;
        p.startedHow = `stat starttime + btime (${hz} ticks/s)`;
      }
    } else if (f.kind === 'nsLink') {
      proc(f.pid);
      if (f.ns === 'net') netOf.set(f.pid, { inode: f.inode, ev: f.ev });
      else if (f.ns === 'mnt') mntOf.set(f.pid, f.inode);
    }
  }
  // The host's namespaces are pid 1's. Where pid 1's links could not be read (a sandboxed init, hidepid=), kthreadd's:
  // kernel threads always run in the initial namespaces. Only the real kthreadd (pid 2, parent 0) counts: in a bundle
  // taken inside a pid namespace, pid 2 is an ordinary process.
  const kthreadd = isKernelThread(2, processes.get(2));
  const initPid = (links: Map<number, unknown>) => (links.has(1) || !kthreadd ? 1 : 2);
  const startOf = (pid: number) => processes.get(pid)?.started ?? Number.MAX_SAFE_INTEGER;
  const byAge = (a: number, b: number) => startOf(a) - startOf(b) || a - b;

  // Units and the container daemon
  const unitSettings: UnitSetting[] = [];
  for (const f of facts) if ((f.kind === 'unitDirective' && f.section === 'Service') || f.kind === 'unitProperty') unitSettings.push({ unit: f.unit, key: f.key, value: f.value, ev: f.ev });
  const dockerSetting = (key: string): UnitSetting | undefined => {
    // Drop-ins override the unit file; /etc overrides /lib; within one source the last line wins.
    const rank = (s: UnitSetting) => (/\.service\.d\//.test(s.ev.source) || /\.service\.d\//.test(s.ev.text) ? 3 : /(^|\/)etc\/systemd\//.test(s.ev.source) ? 2 : 1);
    let best: UnitSetting | undefined;
    for (const s of unitSettings) if (/^docker(-current)?\.service$/.test(s.unit) && s.key === key && (!best || rank(s) >= rank(best))) best = s;
    return best && best.value !== '' ? best : undefined;
  };

  // Mount namespaces
  const mountNamespaces = new Map<string, MountNamespace>();
  const hostMnt = mntOf.get(initPid(mntOf));
  const mainPid = Number(dockerSetting('MainPID')?.value ?? 0) || undefined;
  let daemonPid = mainPid && processes.has(mainPid) ? mainPid : undefined;
  if (!daemonPid) for (const p of [...processes.values()].sort((a, b) => byAge(a.pid, b.pid))) if (DOCKERD.test(p.args ?? p.comm ?? '') || p.comm === 'dockerd') { daemonPid = p.pid; break; }
  if (!daemonPid && mainPid) daemonPid = mainPid;
  const daemonMnt = daemonPid ? mntOf.get(daemonPid) : undefined;
  const pidsByMnt = new Map<string, number[]>();
  for (const [pid, inode] of mntOf) {
    const l = pidsByMnt.get(inode);
    if (l) l.push(pid);
    else pidsByMnt.set(inode, [pid]);
  }
  const mntnsOfPid = (pid: number): MountNamespace => {
    // Pid 1's mount namespace is the host's, even where its link could not be read (a mount table printed from a host
    // shell is attributed to pid 1).
    const inode = mntOf.get(pid) ?? (pid === 1 ? hostMnt : undefined);
    const key = inode ? `mnt:[${inode}]` : `pid ${pid}`;
    let m = mountNamespaces.get(key);
    if (!m) {
      const all = inode ? [...(pidsByMnt.get(inode) ?? [pid])].sort(byAge) : [pid];
      const pids = kthreadd ? all.filter((q) => !isKernelThread(q, processes.get(q))) : all; // ppid 2 means kthreadd only on a host
      m = { key, inode, pids: pids.length ? pids : all, kernelThreads: pids.length ? all.length - pids.length : 0, isHost: inode !== undefined ? inode === hostMnt : pid === 1, isDaemon: inode !== undefined && inode === daemonMnt };
      mountNamespaces.set(key, m);
    }
    return m;
  };

  // Network namespaces, keyed by inode
  const netns = new Map<string, Netns>();
  const ns = (key: string, inode?: string): Netns => {
    let n = netns.get(key);
    if (!n) netns.set(key, (n = { key, inode, isHost: false, paths: [], members: [], memberEv: [], mounts: [], fds: [], views: [], containers: [] }));
    return n;
  };
  for (const [pid, link] of netOf) {
    const n = ns(link.inode, link.inode);
    n.members.push(pid);
    if (n.memberEv.length < 3) n.memberEv.push(link.ev);
  }
  // One fd seen twice (its /proc link and lsfd) is one pin.
  const addFd = (n: Netns, f: { pid: number; fd: number; ev: Evidence }) => {
    if (!n.fds.some((x) => x.pid === f.pid && x.fd === f.fd)) n.fds.push({ pid: f.pid, fd: f.fd, ev: f.ev });
  };
  const hostNet = netOf.get(initPid(netOf))?.inode;
  if (hostNet) ns(hostNet, hostNet).isHost = true;
  for (const f of facts) {
    if (f.kind === 'fdLink' && f.ns === 'net') addFd(ns(f.inode, f.inode), f);
    if (f.kind !== 'nsMount') continue;
    const n = f.inode ? ns(f.inode, f.inode) : ns(`path:${f.path}`);
    const mntns = mntnsOfPid(f.pid);
    const pin = n.mounts.find((m) => m.mntns === mntns && m.path === f.path);
    if (pin) pin.ev.push(f.ev);
    else n.mounts.push({ mntns, path: f.path, fstype: f.fstype, propagation: f.propagation, ev: [f.ev] });
    if (!n.paths.includes(f.path)) n.paths.push(f.path);
  }
  // A path seen without an inode (/proc/mounts) and with one (mountinfo) is one namespace: the one with the inode.
  for (const n of [...netns.values()]) {
    if (n.inode || !n.key.startsWith('path:')) continue;
    const known = [...netns.values()].find((o) => o.inode && n.paths.every((p) => o.paths.includes(p)));
    if (known) netns.delete(n.key);
  }
  // lsfd prints an fd on a netns bind mount as its path: it is a netns fd when its inode is a netns seen elsewhere.
  for (const f of facts) if (f.kind === 'fdLink' && f.ns === 'nsfs' && netns.has(f.inode)) addFd(netns.get(f.inode)!, f);
  // A namespace reached by path: prefer the mount seen from the given pid's mount namespace.
  const mountsByPath = new Map<string, { n: Netns; mntns?: string }[]>();
  for (const n of netns.values()) for (const m of n.mounts) pushTo(mountsByPath, m.path, { n, mntns: m.mntns.inode });
  const byPath = (path: string, viaPid?: number): Netns | undefined => {
    const found = mountsByPath.get(normalisePath(path)) ?? [];
    const via = viaPid !== undefined ? mntOf.get(viaPid) : undefined;
    return (via && found.find((x) => x.mntns === via)?.n) || found[0]?.n;
  };
  const locate = (where: NetnsRef): { n: Netns; how: string } => {
    switch (where.kind) {
      case 'host':
        return { n: hostNet ? ns(hostNet, hostNet) : Object.assign(ns('host'), { isHost: true }), how: 'host network namespace' };
      case 'inode':
        return { n: ns(where.inode, where.inode), how: `netns inode ${where.inode}` };
      case 'pid': {
        const l = netOf.get(where.pid);
        return { n: l ? ns(l.inode, l.inode) : ns(`pid:${where.pid}`), how: `entered through pid ${where.pid}` };
      }
      case 'fd': {
        const fd = facts.find((f) => f.kind === 'fdLink' && f.pid === where.pid && f.fd === where.fd) as Extract<Fact, { kind: 'fdLink' }> | undefined;
        return { n: fd ? ns(fd.inode, fd.inode) : ns(`fd:${where.pid}/${where.fd}`), how: `entered through fd ${where.fd} of pid ${where.pid}` };
      }
      case 'path': {
        const n = byPath(where.path, where.viaPid) ?? ns(`path:${normalisePath(where.path)}`);
        if (!n.paths.includes(normalisePath(where.path))) n.paths.push(normalisePath(where.path));
        return { n, how: `entered at ${where.path}${where.viaPid !== undefined ? ` from the mount namespace of pid ${where.viaPid}` : ''}` };
      }
      case 'container':
        throw new Error('a container view is located once the containers are known');
    }
  };
  const insideContainers: Extract<Fact, { kind: 'netnsView' }>[] = [];
  for (const f of facts) {
    if (f.kind !== 'netnsView') continue;
    if (f.where.kind === 'container') {
      insideContainers.push(f);
      continue;
    }
    const { n, how } = locate(f.where);
    n.views.push({ links: f.links, ev: f.ev, how });
  }

  // Containers
  const containers = new Map<string, Container>();
  const containerIndex = new Map<string, Container>();
  const bySandboxKey = new Map<string, Container>();
  // The same container from two inventories (docker ps prints 12 digits, docker inspect 64): one record, the fuller one first.
  const records: Container[] = [];
  const byShort = new Map<string, Container>();
  for (const f of facts) {
    if (f.kind !== 'container') continue;
    const fresh: Container = { ...f.container, started: resolve(f.container.startedAt)?.utc, finished: resolve(f.container.finishedAt)?.utc, ev: f.ev };
    const seen = byShort.get(shortId(fresh.id));
    if (seen && sameId(seen.id, fresh.id)) mergeContainer(seen, fresh);
    else {
      records.push(fresh);
      byShort.set(shortId(fresh.id), fresh);
    }
  }
  for (const c of records) {
    if (c.sandboxKey) {
      const n = byPath(c.sandboxKey);
      if (n) c.netnsKey = n.key;
    }
    if (!c.netnsKey && c.pid && netOf.has(c.pid)) c.netnsKey = netOf.get(c.pid)!.inode;
    containers.set(c.id, c);
    containerIndex.set(shortId(c.id), c);
    if (c.sandboxKey) bySandboxKey.set(normalisePath(c.sandboxKey), c);
    if (c.netnsKey && c.isSandbox) netns.get(c.netnsKey)?.containers.push(c);
    const who = `container ${c.id.slice(0, 12)}${c.pod ? ` (pod ${podName(c.pod, c.podNamespace)})` : c.name ? ` (${c.name})` : ''}`;
    event(resolve(c.startedAt), { kind: 'container:start', message: `${who} started`, ev: c.ev, containerId: c.id, pod: podName(c.pod, c.podNamespace) });
    if (c.state !== 'running')
      event(resolve(c.finishedAt), { kind: 'container:finish', message: `${who} stopped; now ${c.state}${c.error ? ` (${c.error})` : ''}`, ev: c.ev, containerId: c.id, pod: podName(c.pod, c.podNamespace) });
  }
  // Before 3.19 a netns bind mount shows as fstype "proc" with no inode: identify it through the container that owns the path.
  for (const n of [...netns.values()]) {
    if (n.inode || !n.key.startsWith('path:')) continue;
    const owner = n.paths.map((p) => bySandboxKey.get(p)).find((c) => c !== undefined);
    const live = owner?.pid ? netOf.get(owner.pid) : undefined;
    if (owner && live) {
      const into = ns(live.inode, live.inode);
      for (const p of n.paths) if (!into.paths.includes(p)) into.paths.push(p);
      pushAll(into.mounts, n.mounts);
      pushAll(into.views, n.views);
      for (const c of containers.values()) if (c.netnsKey === n.key) c.netnsKey = into.key;
      pushAll(into.containers, n.containers.filter((c) => !into.containers.includes(c)));
      netns.delete(n.key);
    } else if (!owner || hasProcess(owner.state)) {
      n.livenessUnknown = owner
        ? `container ${owner.id.slice(0, 12)} owns it and is ${owner.state}, but its process's /proc/<pid>/ns/net is not in the bundle`
        : 'the kernel shows no inode for this mount (before 3.19) and no container in the bundle owns its path';
    }
  }

  // Views taken inside a container (docker exec X ip addr): its namespace, through its sandbox or its process; a container
  // the bundle does not know gets a namespace of its own, never the host's.
  for (const f of insideContainers) {
    const where = f.where as Extract<NetnsRef, { kind: 'container' }>;
    const c = containerByRef(records, where.ref);
    const sandbox = c?.sandboxOf ? findContainer({ containers, containerIndex }, c.sandboxOf) : undefined;
    const key = c?.netnsKey ?? sandbox?.netnsKey ?? (c?.pid && netOf.get(c.pid)?.inode);
    const n = key ? (netns.get(key) ?? ns(key, key)) : ns(`container:${where.ref}`);
    n.views.push({ links: f.links, ev: f.ev, how: `${where.via} into ${c ? `container ${c.id.slice(0, 12)}${c.name ? ` (${c.name})` : ''}` : `${where.ref}, which the bundle's inventory does not show`}` });
  }

  for (const n of netns.values()) n.processless = processlessBy(n.paths);
  // Neighbour tables, once namespaces known by path only have been merged into their live ones. One taken inside a
  // container is left out: which namespace it is matters less than for a view.
  const neighbors: Neighbor[] = [];
  for (const f of facts) if (f.kind === 'neighbor' && f.where.kind !== 'container') neighbors.push({ ip: f.ip, mac: f.mac, dev: f.dev, state: f.state, netns: locate(f.where).n, ev: f.ev });

  // CNI operations and IP claims. Lines without a year are counted once: as events when the ledger kept every line.
  const everyLine = facts.some((f) => f.kind === 'cniEvent');
  const cniOps = facts
    .filter((f): f is Extract<Fact, { kind: 'cniOp' }> => f.kind === 'cniOp')
    .map((f): CniOp => {
      const at = resolve(f.at);
      if (!at && !everyLine) unresolved++;
      // Field by field: an object rest (`{ kind, at, ...op }`) took 8 µs per fact here, 190 ms on a busy node's ledger.
      const { op, containerId, netnsPath, pod, podNamespace, ips, err, ev, droppedBefore } = f;
      return { op, containerId, netnsPath, pod, podNamespace, ips, err, ev, droppedBefore, at: at?.utc, atHow: at?.how };
    })
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0) || a.ev.source.localeCompare(b.ev.source) || a.ev.line - b.ev.line);
  const claims: IpClaim[] = [];
  const openByContainer = new Map<string, IpClaim[]>();
  // A CNI line's event: from every line when the ledger kept them all (the timeline), else from the lines it kept.
  const cniEvent = (at: ReturnType<typeof resolve>, op: Pick<CniOp, 'op' | 'containerId' | 'ips' | 'err' | 'ev'>, pod: string | undefined) =>
    event(at, {
      kind: op.op === 'ADD' ? 'cni:add' : 'cni:del',
      message: `CNI ${op.op} ${op.containerId.slice(0, 12)}${pod ? ` (pod ${pod})` : ''}${op.ips.length ? ` ip ${op.ips.join(', ')}` : ''}${op.err ? ` failed: ${op.err}` : ''}`,
      ev: op.ev,
      containerId: op.containerId,
      pod,
      ip: op.ips[0],
    });
  if (everyLine) {
    for (const f of facts) {
      if (f.kind !== 'cniEvent') continue;
      const at = resolve(f.at);
      if (!at) unresolved++;
      if (wantEvents) cniEvent(at, f, f.pod);
    }
  }
  for (const op of cniOps) {
    const pod = op.pod ? `${podName(op.pod, op.podNamespace)}` : undefined;
    if (wantEvents && !everyLine) cniEvent(op.at !== undefined ? { utc: op.at, how: op.atHow! } : undefined, op, pod);
    if (op.err) continue;
    if (op.op === 'ADD') {
      for (const ip of op.ips) {
        // `released` is set later for most claims: declared here, it is a field of the object, not one added after.
        const claim: IpClaim = { ip, containerId: op.containerId, pod: op.pod, podNamespace: op.podNamespace, source: 'cni', at: op.at, atHow: op.atHow, netnsPath: op.netnsPath, ev: op.ev, droppedBefore: op.droppedBefore?.[op.ips.indexOf(ip)] || undefined, released: undefined };
        claims.push(claim);
        pushTo(openByContainer, shortId(op.containerId), claim);
      }
    } else {
      for (const c of openByContainer.get(shortId(op.containerId)) ?? []) if (sameId(c.containerId, op.containerId)) c.released = { at: op.at, ev: op.ev };
      openByContainer.delete(shortId(op.containerId));
    }
  }
  const cniReleasedBefore = releasedBefore(facts, cniOps);
  const claimed = new Set(claims.map((k) => `${k.ip}\0${shortId(k.containerId)}`));
  for (const c of containers.values()) {
    for (const ip of c.ips) {
      if (claimed.has(`${ip}\0${shortId(c.id)}`)) continue;
      claims.push({ ip, containerId: c.id, pod: c.pod, podNamespace: c.podNamespace, source: 'inventory', at: c.started, netnsPath: c.sandboxKey, ev: c.ev });
      claimed.add(`${ip}\0${shortId(c.id)}`);
    }
  }
  // A reservation left in the IPAM store or the libcni cache is a claim whose DEL never completed.
  for (const f of facts) {
    if (f.kind !== 'ipReservation' || claimed.has(`${f.ip}\0${shortId(f.containerId)}`)) continue;
    claims.push({ ip: f.ip, containerId: f.containerId, pod: f.pod, podNamespace: f.podNamespace, source: f.via, netnsPath: f.netnsPath, ev: f.ev });
    claimed.add(`${f.ip}\0${shortId(f.containerId)}`);
  }
  // A claim's container, by id or by the pod's infra container.
  const lookup = { containers, containerIndex };
  for (const k of claims) {
    const c = findContainer(lookup, k.containerId);
    if (c && !k.pod) {
      k.pod = c.pod;
      k.podNamespace = c.podNamespace;
    }
  }
  // Join the containers that own a netns when nothing else did. First by the netns path their CNI ADD was given (a
  // runtime's /run/netns/cni-… is seen as /host/run/netns/cni-… from an agent that mounts the host's root); then by
  // IP (dockershim passes /proc/<pid>/ns/net, gone with the pid), leaving out claimants whose ADD names another
  // namespace's path: when an IP was given again while its old namespace lived on, both claim it.
  const openByIp = new Map<string, IpClaim[]>();
  for (const k of claims) if (!k.released) pushTo(openByIp, k.ip, k);
  const seenAt = (n: Netns, path: string | undefined) => {
    if (!path || !/\/netns\//.test(path)) return false;
    const p = normalisePath(path);
    return n.paths.some((q) => q === p || q.endsWith(p));
  };
  const attach = (n: Netns, c: Container | undefined) => {
    if (!c || c.netnsKey) return;
    c.netnsKey = n.key;
    n.containers.push(c);
  };
  const unowned = [...netns.values()].filter((n) => !n.containers.length);
  // Claims and namespaces by the last part of a netns path (cni-…): lookups, not a scan of every pair.
  const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);
  const byNetnsName = new Map<string, IpClaim[]>();
  for (const k of claims) if (!k.released && k.netnsPath && /\/netns\//.test(k.netnsPath)) pushTo(byNetnsName, base(k.netnsPath), k);
  const unownedByName = new Map<string, Netns[]>();
  for (const n of unowned) for (const path of n.paths) pushTo(unownedByName, base(path), n);
  const namesAnother = (k: IpClaim, n: Netns) => !!k.netnsPath && (unownedByName.get(base(k.netnsPath)) ?? []).some((o) => o !== n && seenAt(o, k.netnsPath));
  for (const n of unowned) for (const path of n.paths) for (const k of byNetnsName.get(base(path)) ?? []) if (seenAt(n, k.netnsPath)) attach(n, findContainer(lookup, k.containerId));
  for (const n of unowned) {
    if (n.containers.length) continue;
    const ips = new Set(n.views.flatMap((v) => v.links.flatMap((l) => l.addrs.map((a) => a.ip))));
    const owners = new Set<string>();
    for (const ip of ips) for (const k of openByIp.get(ip) ?? []) if (!namesAnother(k, n)) owners.add(k.containerId);
    for (const id of owners) attach(n, findContainer(lookup, id));
  }

  // A namespace with no member seen, owned by a container the runtime says is running: its process's ns/net link is
  // just not in the bundle (links gathered for a few pids, or by a user who cannot read the others). Not a leak to
  // report: whether a process is inside is unknown, and one note says so.
  const ownersOf = new Map<string, Container[]>();
  for (const c of containers.values()) if (c.netnsKey) pushTo(ownersOf, c.netnsKey, c);
  const unsure: string[] = [];
  for (const n of netns.values()) {
    if (n.isHost || n.members.length || n.livenessUnknown || !(n.mounts.length || n.fds.length)) continue;
    const live = ownersOf.get(n.key)?.find((c) => hasProcess(c.state) && !(c.pid && netOf.has(c.pid)));
    if (!live) continue;
    n.livenessUnknown = `container ${live.id.slice(0, 12)} owns it and is ${live.state}, but ${live.pid ? `/proc/${live.pid}/ns/net` : 'its process'} is not in the bundle`;
    unsure.push(`${netnsId(n)}: ${n.livenessUnknown}`);
  }
  if (unsure.length)
    diags.push({
      level: 'warning',
      source: input.name,
      message: `${unsure.length === 1 ? 'a network namespace has' : `${unsure.length} network namespaces have`} no process seen inside, yet a running container owns ${unsure.length === 1 ? 'it' : 'each'}, so whether ${unsure.length === 1 ? 'it' : 'they'} leaked is unknown (${unsure.slice(0, 3).join('; ')}${unsure.length > 3 ? `; and ${unsure.length - 3} more` : ''}). Collect \`ls -l /proc/*/ns/net\` as root, for every process.`,
    });

  // The host's name and own addresses: what the cluster's evidence (kubectl get events) calls this node.
  const hostLinks = hostNet ? netns.get(hostNet)?.views : netns.get('host')?.views;
  const addresses = [...new Set((hostLinks ?? []).flatMap((v) => v.links.flatMap((l) => l.addrs.filter((a) => a.scope === 'global' && a.family === 4 && !l.flags.includes('LOOPBACK')).map((a) => a.ip))))].sort();
  const named = hostnames.find((h) => !h.fromPrompt) ?? hostnames[0];
  const hostName = named?.name ?? input.name;

  // What kubelet and the runtime said about sandboxes
  const sandboxEvents: SandboxEvent[] = [];
  let otherNodes = 0;
  const nodesSeen = new Set<string>();
  // The sandboxes this host's own evidence names: the cluster's event that names no node is this host's if it is one.
  let ownSandboxes: Set<string> | undefined;
  const isOwnSandbox = (id: string) => {
    ownSandboxes ??= new Set([...cniOps.map((o) => shortId(o.containerId)), ...[...containers.keys()].map(shortId), ...facts.flatMap((f) => (f.kind === 'sandboxEvent' && !f.nodeUnknown && f.node === undefined && f.sandboxId ? [shortId(f.sandboxId)] : []))]);
    return ownSandboxes.has(shortId(id));
  };
  let unplaced = 0;
  for (const f of facts) {
    if (f.kind !== 'sandboxEvent') continue;
    if (f.node !== undefined && !nodeMatches(hostName, addresses, f.node)) {
      otherNodes++;
      nodesSeen.add(f.node);
      continue;
    }
    if (f.nodeUnknown && !(f.sandboxId && isOwnSandbox(f.sandboxId))) {
      unplaced++;
      continue;
    }
    const at = resolve(f.at);
    if (!at) {
      unresolved++;
      continue;
    }
    const { kind: _k, at: _a, ...rest } = f;
    sandboxEvents.push({ ...rest, at: at.utc, atHow: at.how });
    const pod = podName(f.pod, f.podNamespace);
    const noun = f.daemon === 'podman' ? 'container' : 'sandbox'; // podman has no sandboxes: a container owns its namespace
    const subject = f.sandboxId ? `${noun} ${f.sandboxId.slice(0, 12)}${pod ? ` (pod ${pod})` : ''}` : pod ? `pod ${pod}` : `a ${noun}`;
    const what = SANDBOX_WORDS[f.event];
    event(at, { kind: `sandbox:${f.event}`, message: `${f.daemon}: ${subject}: ${f.err ? `${what}: ${f.err}` : what === SANDBOX_WORDS.stop || f.event === 'netns' ? f.message : what}`, ev: f.ev, containerId: f.sandboxId, pod, netns: f.netnsPath });
  }
  sandboxEvents.sort((a, b) => a.at - b.at || a.ev.source.localeCompare(b.ev.source) || a.ev.line - b.ev.line);
  if (unplaced)
    diags.push({ level: 'info', source: input.name, message: `${unplaced} sandbox events of the cluster's (a kubectl get events table) name no node, nor a sandbox this host's evidence knows; not read for this host. \`kubectl get events -o wide\` (or -o json) says which node each is about.` });
  if (otherNodes) {
    const nodes = [...nodesSeen].sort();
    diags.push({ level: 'info', source: input.name, message: `${otherNodes} sandbox events of the cluster's (kubectl get events, kubectl describe pod) are about nodes other than ${hostName} (${nodes.slice(0, 3).join(', ')}${nodes.length > 3 ? `, and ${nodes.length - 3} more` : ''}); not read for this host. If one of them is this host, give the bundle its node name in etc/hostname.` });
  }
  const reservations: Reservation[] = [];
  const leftovers: Leftover[] = [];
  const netnsNames = new Map<string, { nsid?: number; ev: Evidence }>();
  for (const f of facts) {
    if (f.kind === 'ipReservation') reservations.push((({ kind: _k, ...r }) => r)(f));
    else if (f.kind === 'cniLeftover') leftovers.push((({ kind: _k, ...r }) => r)(f));
    else if (f.kind === 'netnsName') {
      const had = netnsNames.get(f.name);
      netnsNames.set(f.name, { nsid: f.nsid ?? had?.nsid, ev: had?.ev ?? f.ev });
    }
  }
  reservations.sort((a, b) => a.ip.localeCompare(b.ip) || a.ev.source.localeCompare(b.ev.source));
  leftovers.sort((a, b) => a.ev.source.localeCompare(b.ev.source));

  // Daemon, restarts, log events
  let daemon: Daemon | undefined;
  const logs = facts.filter((f): f is Extract<Fact, { kind: 'logEvent' }> => f.kind === 'logEvent');
  if (daemonPid || dockerSetting('MountFlags') || containers.size || logs.some((l) => l.daemon === 'dockerd')) {
    const dp = daemonPid ? processes.get(daemonPid) : undefined;
    const startProp = dockerSetting('ExecMainStartTimestamp');
    const propStart = startProp ? parseSystemdTime(startProp.value, clock) : undefined;
    daemon = {
      name: 'dockerd',
      pid: daemonPid,
      started: dp?.started ?? propStart,
      startedEv: dp?.started !== undefined ? dp.ev[0] : propStart !== undefined ? startProp?.ev : undefined,
      mntns: daemonPid && mntOf.has(daemonPid) ? mntnsOfPid(daemonPid) : undefined,
      mountFlags: dockerSetting('MountFlags'),
      privateMounts: dockerSetting('PrivateMounts'),
      restarts: [],
    };
  }
  // One start is several log lines ("Starting up", "Loading containers", "API listen on"): keep the first of each burst.
  let lastStart = -Infinity;
  const firewallChanges: HostModel['firewallChanges'] = [];
  for (const l of logs) {
    const at = resolve(l.at);
    if (!at) continue;
    if (l.event === 'daemon-start') {
      const burst = at.utc - lastStart < 120_000;
      lastStart = at.utc;
      if (burst) continue;
      daemon?.restarts.push({ at: at.utc, ev: l.ev });
    }
    if (l.event === 'firewall') firewallChanges.push({ at: at.utc, daemon: l.daemon, message: l.message, ev: l.ev });
    const kind = l.event === 'daemon-start' ? 'daemon:start' : l.event === 'container' ? 'container:event' : `daemon:${l.event}`;
    event(at, { kind, message: `${l.daemon}: ${l.message}`, ev: l.ev, containerId: l.containerId });
  }
  if (daemon?.started !== undefined && daemon.startedEv)
    event({ utc: daemon.started, how: 'local' }, { kind: 'daemon:start', message: `dockerd (pid ${daemon.pid ?? '?'}) process started`, ev: daemon.startedEv, pid: daemon.pid });
  if (unresolved) diags.push({ level: 'warning', source: input.name, message: `${unresolved} log lines (CNI, kubelet, runtime) have no year and the bundle has no collection time (date -R); they are left off the timeline. Pass --year.` });

  return {
    name: hostName,
    sources: input.sources,
    clock,
    kernel: kernelFact ? { release: kernelFact.release, ev: kernelFact.ev } : undefined,
    processes,
    mountNamespaces,
    netns,
    containers,
    containerIndex,
    claims,
    cniOps,
    cniReleasedBefore,
    sandboxEvents,
    reservations,
    leftovers,
    neighbors,
    firewallChanges: firewallChanges.sort((a, b) => a.at - b.at || a.ev.source.localeCompare(b.ev.source) || a.ev.line - b.ev.line),
    runtimeVersions: facts.filter((f): f is Extract<Fact, { kind: 'runtimeVersion' }> => f.kind === 'runtimeVersion').map(({ runtime, version, ev }) => ({ runtime, version, ev })),
    podIps: facts.filter((f): f is Extract<Fact, { kind: 'podIp' }> => f.kind === 'podIp').map(({ kind: _, ...p }) => p),
    netnsNames,
    daemon,
    events: events.sort((a, b) => a.at - b.at || a.ev.source.localeCompare(b.ev.source) || a.ev.line - b.ev.line),
    has,
    addresses,
  };
}

/**
 * Of the containers whose every DEL kept failed, with no ADD kept, those a clean DEL had released in a line the ledger
 * did not keep (in another file of the log: within one file a later DEL of a released container is dropped as a
 * retry). Only these few ids are looked up: the released ones number hundreds of thousands on a busy node.
 */
function releasedBefore(facts: Fact[], cniOps: CniOp[]): Set<string> {
  const failedOnly = new Set<string>();
  const settled = new Set<string>(); // a clean DEL kept, or an ADD kept: a DEL failing after a new ADD is no retry
  for (const op of cniOps) {
    if (op.op === 'DEL' && op.err) failedOnly.add(shortId(op.containerId));
    else if (!op.err) settled.add(shortId(op.containerId));
  }
  for (const id of settled) failedOnly.delete(id);
  const found = new Set<string>();
  if (!failedOnly.size) return found;
  for (const f of facts) {
    if (f.kind !== 'cniReleased') continue;
    for (const id of failedOnly) {
      const v = idValue(id);
      if (v >= 0 && f.released.runs.some((run) => inRun(run, v))) found.add(id);
    }
    for (const id of f.released.others) if (failedOnly.has(id)) found.add(id);
  }
  return found;
}

/** Fills what `into` lacks from `from`; the longer id and the more specific state win. */
function mergeContainer(into: Container, from: Container): void {
  // An inspect's record wins over a table's guesses (docker ps cannot tell a sandbox by much more than its name),
  // whichever file was read first: by its full id, or by not being a table's.
  const fuller = from.id.length > into.id.length || (!!into.fromTable && !from.fromTable);
  for (const [k, v] of Object.entries(from) as [keyof Container, unknown][]) {
    if (v === undefined || (Array.isArray(v) && !v.length) || (k === 'state' && v === 'unknown')) continue;
    const cur = into[k];
    if (cur === undefined || (Array.isArray(cur) && !cur.length) || (k === 'state' && cur === 'unknown') || fuller) (into as unknown as Record<string, unknown>)[k] = v;
  }
  if (fuller) {
    into.fromTable = from.fromTable;
    if (from.id.length > into.id.length) into.id = from.id;
    into.ev = from.ev;
  }
}

export function sameId(a: string, b: string): boolean {
  return a === b || (a.length >= 12 && b.length >= 12 && (a.startsWith(b) || b.startsWith(a)));
}

/** systemd timestamps: "Sun 2019-05-19 18:09:07 CST" — the zone abbreviation is ambiguous, so the host's zone is used unless it says UTC. */
function parseSystemdTime(value: string, clock: HostClock): number | undefined {
  const m = /(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?: (\S+))?/.exec(value);
  if (!m) return undefined;
  const zone = m[7] === 'UTC' ? 'UTC' : undefined;
  return resolveStamp({ kind: 'local', year: +m[1], month: +m[2], day: +m[3], hour: +m[4], minute: +m[5], second: +m[6], millis: 0, zone }, clock)?.utc;
}

/** The container an exec named: an id or id prefix, a name, or (kubectl) a pod, whose sandbox is taken. */
function containerByRef(records: Container[], ref: string): Container | undefined {
  if (/^[0-9a-f]{4,64}$/.test(ref)) {
    const byId = records.filter((c) => c.id.startsWith(ref));
    if (byId.length === 1) return byId[0];
  }
  const named = records.filter((c) => c.name === ref || c.name === `/${ref}`);
  if (named.length) return named.find((c) => hasProcess(c.state)) ?? named[0];
  const pod = records.filter((c) => c.isSandbox && c.pod === ref);
  return pod.find((c) => hasProcess(c.state)) ?? pod[0];
}
