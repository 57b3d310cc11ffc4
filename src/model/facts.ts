// Typed facts that parsers emit. Every fact carries the evidence line it came from.
import type { IdValues } from './id-set.js';

export interface Evidence {
  source: string; // path inside the bundle, prefixed by the bundle name
  line: number; // 1-based; 0 when the fact comes from an entry's metadata (a symlink target)
  text: string;
}

/** A time as written in the evidence; resolved to UTC once the host's clock and zone are known. */
export type Stamp =
  | { kind: 'exact'; utc: number }
  | {
      kind: 'local';
      year?: number; // absent for glog/syslog dates
      month: number;
      day: number;
      hour: number;
      minute: number;
      second: number;
      millis: number;
      zone?: string; // IANA name or fixed offset ("UTC+8") when the text carries one
    }
  | { kind: 'ago'; ms: number }; // that long before the bundle was collected (kubectl describe's ages)

/** Where an `ip addr` view was taken. */
export type NetnsRef =
  | { kind: 'host' }
  | { kind: 'path'; path: string; viaPid?: number } // nsenter -t PID -m nsenter --net=PATH, ip netns exec NAME
  | { kind: 'fd'; pid: number; fd: number } // nsenter --net=/proc/PID/fd/N
  | { kind: 'pid'; pid: number } // nsenter -t PID -n, nsenter --net=/proc/PID/ns/net
  | { kind: 'inode'; inode: string } // collector layout: a view filed under the namespace inode
  | { kind: 'container'; ref: string; via: string }; // `docker exec REF ip addr` (podman, nerdctl, crictl), `kubectl exec POD -- ip addr`

export interface IfAddr {
  ip: string;
  prefix: number;
  family: 4 | 6;
  scope: string;
  label?: string;
  ev: Evidence;
}

export interface Link {
  ifindex: number;
  name: string;
  peerIfindex?: number; // "@ifN" or link_index
  linkNetnsid?: number;
  linkNetns?: string;
  flags: string[];
  mac?: string;
  type?: string; // veth, bridge, ipip… when `ip -d` shows it
  addrs: IfAddr[];
  ev: Evidence;
}

export type ContainerState = 'running' | 'paused' | 'restarting' | 'removing' | 'dead' | 'created' | 'exited' | 'unknown';

export interface ContainerRecord {
  id: string;
  runtime: 'docker' | 'cri' | 'podman' | 'nerdctl'; // which tool removes it: docker rm, crictl rmp (containerd, CRI-O), podman rm, nerdctl rm
  ctrNamespace?: string; // nerdctl: the containerd namespace it lives in (nerdctl -n NS rm)
  name?: string;
  pod?: string;
  podNamespace?: string;
  podUid?: string;
  podId?: string; // podman: the pod (its infra container goes only with it: podman pod rm)
  isSandbox: boolean; // pause / infra container, owner of the pod's netns
  sandboxOf?: string; // for app containers: the infra container id
  state: ContainerState;
  pid?: number;
  sandboxKey?: string;
  sandboxId?: string;
  networkMode?: string;
  ips: string[];
  startedAt?: Stamp;
  finishedAt?: Stamp;
  error?: string;
  netnsClosed?: boolean; // crictl inspectp: info.netNamespaceClosed
  binds?: { source: string; destination: string }[]; // host paths mounted into the container (docker inspect Mounts)
  fromTable?: true; // read off a table (docker ps): some fields are guesses an inspect of the same container overrides
}

export type Fact =
  | { kind: 'hostname'; name: string; fromPrompt?: boolean; ev: Evidence }
  | { kind: 'timezone'; zone: string; ev: Evidence }
  | { kind: 'clock'; utc: number; offsetMinutes: number; ev: Evidence }
  | { kind: 'kernel'; release: string; ev: Evidence }
  | { kind: 'runtimeVersion'; runtime: 'podman'; version: string; ev: Evidence }
  | { kind: 'btime'; epoch: number; ev: Evidence }
  | { kind: 'clockTicks'; hz: number; ev: Evidence }
  | {
      kind: 'process';
      pid: number;
      ppid?: number;
      comm?: string;
      args?: string;
      started?: Stamp;
      startTicks?: number; // /proc/<pid>/stat field 22, resolved with btime
      ev: Evidence;
    }
  | { kind: 'nsLink'; pid: number; ns: string; inode: string; ev: Evidence }
  | { kind: 'fdLink'; pid: number; fd: number; ns: string; inode: string; ev: Evidence }
  | {
      kind: 'nsMount';
      pid: number; // the process whose mountinfo showed it
      path: string; // normalised mount point
      ns: string; // "net" (or "unknown" for pre-3.19 proc mounts)
      inode?: string; // absent for pre-3.19 `proc` mounts
      fstype: string;
      propagation: string; // "shared:4", "master:4", "" (private)
      ev: Evidence;
    }
  | { kind: 'netnsView'; where: NetnsRef; links: Link[]; ev: Evidence }
  | { kind: 'container'; container: ContainerRecord; ev: Evidence }
  | {
      /**
       * The containers of one CNI log file that a clean DEL released and the ledger then dropped (CniLedger): another
       * file's failed DEL of one of them is a retry (kubelet tears a sandbox down more than once), not a failure left.
       */
      kind: 'cniReleased';
      released: IdValues;
      ev: Evidence; // the file, line 0
    }
  | {
      kind: 'cniOp';
      op: 'ADD' | 'DEL';
      containerId: string;
      netnsPath?: string;
      pod?: string;
      podNamespace?: string;
      ips: string[];
      err?: string;
      at: Stamp;
      ev: Evidence;
      /**
       * Set by the ledger on the oldest claim it kept for an IP: how many earlier released claims of it the file held,
       * in the order of `ips`. Not a record keyed by IP: each distinct key would give V8 a hidden class of its own.
       */
      droppedBefore?: number[];
    }
  | {
      /**
       * A CNI ADD or DEL as `forensics timeline` shows it, one per line of the log (the ledger keeps cniOp facts only
       * for the lines the model needs). Its strings are copies, not slices of the line, and its evidence carries no text:
       * a million of them hold what the timeline prints, not the log.
       */
      kind: 'cniEvent';
      op: 'ADD' | 'DEL';
      containerId: string;
      pod?: string; // namespace/name
      ips: string[];
      err?: string;
      at: Stamp;
      ev: Evidence;
    }
  | {
      kind: 'logEvent';
      daemon: string;
      // container: a runtime's event about one container (podman's create, died, remove…); firewall: a firewall service
      // replaced the kernel's rules (reloaded, started or stopped), dropping those other programs added
      event: 'daemon-start' | 'error' | 'warning' | 'container' | 'firewall';
      message: string;
      containerId?: string;
      at: Stamp;
      ev: Evidence;
    }
  | {
      // An IP still reserved for a container: a host-local IPAM file or a libcni result cache entry. Both are
      // removed by a successful DEL, so their existence says DEL never completed.
      kind: 'ipReservation';
      via: 'host-local' | 'libcni-cache' | 'azure-vnet';
      network?: string;
      containerId: string;
      ip: string;
      ifname?: string;
      netnsPath?: string;
      pod?: string;
      podNamespace?: string;
      ev: Evidence;
    }
  | {
      // What kubelet or the runtime (containerd, CRI-O, dockershim) logged about a pod sandbox's network.
      kind: 'sandboxEvent';
      daemon: string;
      event: SandboxEventKind;
      node?: string; // the node it was reported for, when the evidence is the cluster's (kubectl get events): others' are not read
      nodeUnknown?: boolean; // the cluster's, for a node it does not name (a kubectl get events table): this host's only if it names one of its sandboxes
      times?: number; // how many times it happened, when its evidence counts them (an event's count): set only then; a log line is once
      sandboxId?: string;
      pod?: string;
      podNamespace?: string;
      netnsPath?: string;
      err?: string;
      message: string;
      at: Stamp;
      ev: Evidence;
    }
  | {
      // CNI state that only a successful DEL removes: flannel's scratch netconf, multus's delegate cache.
      kind: 'cniLeftover';
      via: 'flannel' | 'multus';
      containerId: string;
      network?: string;
      ev: Evidence;
    }
  | { kind: 'netnsName'; name: string; nsid?: number; ev: Evidence } // `ip netns list`: a name under /run/netns
  // `ip neigh` / `arp -an` in one namespace: the MAC an address last answered from (none when it did not answer).
  | { kind: 'neighbor'; ip: string; mac?: string; dev: string; state?: string; where: NetnsRef; ev: Evidence }
  // `kubectl get pods -o wide`: the API server's view, cluster-wide, of which pod has an IP on which node.
  // holds: its status says it still has the address (Running, Pending, CrashLoopBackOff…; not Completed, Failed, Evicted).
  | { kind: 'podIp'; pod: string; podNamespace?: string; ip: string; node?: string; status: string; holds: boolean; ev: Evidence }
  | { kind: 'unitDirective'; unit: string; section: string; key: string; value: string; ev: Evidence }
  | { kind: 'unitProperty'; unit: string; key: string; value: string; ev: Evidence };

export type FactKind = Fact['kind'];

/**
 * run: the sandbox was created (RunPodSandbox returned an id); add-failed: its network setup failed (with "no IP addresses
 * available" when IPAM is exhausted); teardown-ok: the runtime tore the network down; teardown-failed: DEL or the netns
 * removal failed; removed: the sandbox is gone from the runtime; netns: the runtime named the sandbox's netns path.
 */
export type SandboxEventKind = 'run' | 'netns' | 'add-failed' | 'stop' | 'teardown-ok' | 'teardown-failed' | 'removed';

/** Normalise a mount or netns path: `/var/run` and `/run` are the same directory. */
export function normalisePath(p: string): string {
  let out = p.replace(/\/+/g, '/');
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  if (out === '/var/run' || out.startsWith('/var/run/')) out = out.slice(4);
  return out;
}

const NS_LINK = /^'?(\w+):\[(\d+)\]'?$/;
/** Parse `net:[4026532177]` (optionally quoted by newer coreutils). */
export function parseNsTarget(text: string): { ns: string; inode: string } | undefined {
  const m = NS_LINK.exec(text.trim());
  return m ? { ns: m[1], inode: m[2] } : undefined;
}
