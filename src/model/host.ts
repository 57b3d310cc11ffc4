import type { ContainerRecord, Evidence, Fact, Link } from './facts.js';
import type { HostClock, Resolved } from '../timeline/time.js';

export interface Process {
  pid: number;
  ppid?: number;
  comm?: string;
  args?: string;
  started?: number; // UTC millis
  startedHow?: string; // "ps lstart", "stat starttime + btime"
  ev: Evidence[];
}

export interface MountNamespace {
  key: string; // "mnt:[inode]" or "pid <n>" when only the mountinfo's pid is known
  inode?: string;
  pids: number[]; // oldest first; kernel threads left out unless there is no one else
  kernelThreads: number; // kernel threads in it, left out of pids (they share the host's and hold nothing)
  isHost: boolean; // pid 1's
  isDaemon: boolean; // the container daemon's
}

/**
 * A kernel thread: kthreadd (pid 2, parent 0) or a child of it without a command line of its own ("[kworker/0:1]"),
 * or, when the bundle does not say whose child it is, a process ps lists by a bracketed name.
 * They all run in the initial namespaces, and no fix restarts them: as pinners of a mount they are noise.
 */
export function isKernelThread(pid: number, p: Pick<Process, 'ppid' | 'args'> | undefined): boolean {
  if (p === undefined) return false;
  // Without a parent (`ps aux` has no PPID column), the bracketed name ps gives a process with no command line.
  if (p.ppid === undefined) return !!p.args && /^\[.*\]$/.test(p.args);
  return (pid === 2 ? p.ppid === 0 : p.ppid === 2) && (!p.args || /^\[.*\]$/.test(p.args));
}

/** Whether a container in this state still has its process (running, paused, restarting). */
export function hasProcess(state: string): boolean {
  return state === 'running' || state === 'paused' || state === 'restarting';
}

/**
 * Rootless podman's pause process (`catatonit -P`): it keeps the user and mount namespace in which rootless podman mounts
 * every container's network namespace (/run/user/<uid>/netns/…). A mount there is podman's own, not a stray copy.
 */
export function isRootlessPodmanPause(p: Pick<Process, 'args' | 'comm'> | undefined): boolean {
  return !!p && (/^(?:\S*\/)?catatonit\s+-P\b/.test(p.args ?? '') || (p.args === undefined && p.comm === 'catatonit'));
}

export interface MountPin {
  mntns: MountNamespace;
  path: string;
  fstype: string;
  propagation: string;
  ev: Evidence[];
}

export interface FdPin {
  pid: number;
  fd: number;
  ev: Evidence;
}

export interface NetnsView {
  links: Link[];
  ev: Evidence;
  how: string; // how the view was taken, in words
}

export interface Netns {
  key: string; // the inode, or "path:/run/…" when no inode is known (pre-3.19 procfs mounts)
  inode?: string;
  isHost: boolean;
  paths: string[];
  members: number[]; // pids whose ns/net is this namespace
  memberEv: Evidence[];
  mounts: MountPin[];
  fds: FdPin[];
  views: NetnsView[];
  containers: Container[];
  /** Set when no inode is known (pre-3.19 procfs mounts) and no owner tells whether a process is inside. */
  livenessUnknown?: string;
  /** A namespace that holds no process by design (dockerd's overlay and ingress sandboxes, rootless podman's network
   * namespace): what it is. Such a namespace is not a leak for having no process. */
  processless?: string;
}

// dockerd's overlay networks (libnetwork): /run/docker/netns/1-<network id> per network, ingress_sbox for the routing
// mesh, lb_<network id> for a network's load balancer. Rootless podman 4: /run/user/<uid>/netns/rootless-netns-<hash>.
const PROCESSLESS: [RegExp, string][] = [
  [/^\/run\/docker\/netns\/(?:\d+-[0-9a-z]{10}|ingress_sbox|lb_[0-9a-z]+)$/, "dockerd's overlay network namespace (swarm's routing mesh and overlay networks keep no process in it)"],
  [/^\/run\/user\/\d+\/netns\/rootless-netns(?:-[0-9a-f]+)?$/, "rootless podman's network namespace for its bridge networks"],
  // OpenStack Neutron's agents (often in containers, kolla) keep routers, DHCP and metadata proxies in named namespaces.
  [/^\/run\/netns\/(?:qrouter|qdhcp|fip|snat|qlbaas|ovnmeta)-[0-9a-f]{8}-[0-9a-f-]{27}$/, "OpenStack Neutron's router, DHCP or metadata namespace"],
];

/** What a namespace mounted at one of these paths is when it holds no process by design, if it is such. */
export function processlessBy(paths: readonly string[]): string | undefined {
  for (const p of paths) for (const [re, what] of PROCESSLESS) if (re.test(p)) return what;
  return undefined;
}

/** "net:[4026532350]", or the mount path when only the path identifies it. */
export function netnsId(n: Netns): string {
  if (n.inode) return `net:[${n.inode}]`;
  if (n.paths.length) return [...n.paths].sort()[0];
  return n.key;
}

export interface Container extends ContainerRecord {
  started?: number;
  finished?: number;
  netnsKey?: string;
  ev: Evidence;
}

export interface IpClaim {
  ip: string;
  containerId: string;
  pod?: string;
  podNamespace?: string;
  source: 'cni' | 'inventory' | 'host-local' | 'libcni-cache' | 'azure-vnet';
  at?: number;
  atHow?: Resolved['how'];
  netnsPath?: string;
  ev: Evidence;
  released?: { at?: number; ev: Evidence };
  /** Earlier released claims of this IP that the log held but the ledger did not keep (it keeps the last few per IP). */
  droppedBefore?: number;
}

/** A CNI ADD or DEL as logged, with its time resolved to UTC. */
export type CniOp = Omit<Extract<Fact, { kind: 'cniOp' }>, 'kind' | 'at'> & { at?: number; atHow?: Resolved['how'] };

/** What kubelet or the runtime logged about a sandbox's network, with its time resolved. */
export type SandboxEvent = Omit<Extract<Fact, { kind: 'sandboxEvent' }>, 'kind' | 'at'> & { at: number; atHow: Resolved['how'] };

export type PodIp = Omit<Extract<Fact, { kind: 'podIp' }>, 'kind'>;

export type Neighbor = Omit<Extract<Fact, { kind: 'neighbor' }>, 'kind' | 'where'> & { netns: Netns };

/** An IP reserved in the host-local store or the libcni cache (only a successful DEL removes either). */
export type Reservation = Omit<Extract<Fact, { kind: 'ipReservation' }>, 'kind'>;

/** Per-container CNI state that only DEL removes (flannel scratch netconf, multus delegate cache). */
export type Leftover = Omit<Extract<Fact, { kind: 'cniLeftover' }>, 'kind'>;

export interface UnitSetting {
  unit: string;
  key: string;
  value: string;
  ev: Evidence;
}

export interface TimelineEvent {
  at: number;
  how: Resolved['how'];
  host: string;
  kind: string; // data_type: "cni:add", "cni:del", "container:start", "daemon:start", …
  message: string;
  ev: Evidence;
  ip?: string;
  containerId?: string;
  pod?: string;
  netns?: string;
  pid?: number;
}

export interface Diagnostic {
  level: 'error' | 'warning' | 'info';
  source: string;
  message: string;
}

export interface Daemon {
  name: string; // "dockerd"
  pid?: number;
  started?: number;
  startedEv?: Evidence;
  mntns?: MountNamespace;
  mountFlags?: UnitSetting;
  privateMounts?: UnitSetting;
  restarts: { at: number; ev: Evidence }[];
}

export interface HostModel {
  name: string;
  sources: string[]; // bundle names
  clock: HostClock;
  kernel?: { release: string; ev: Evidence };
  processes: Map<number, Process>;
  mountNamespaces: Map<string, MountNamespace>;
  netns: Map<string, Netns>;
  containers: Map<string, Container>;
  /** Containers by the first 12 hex digits of their id (CNI logs and docker print ids of both lengths). */
  containerIndex: Map<string, Container>;
  claims: IpClaim[];
  cniOps: CniOp[];
  /**
   * Short ids of containers whose only DELs in `cniOps` failed, yet whose clean DEL a CNI log file showed: the ledger
   * dropped that line (a released sandbox keeps only its id), so the failure was a retry after the release.
   */
  cniReleasedBefore: Set<string>;
  sandboxEvents: SandboxEvent[];
  reservations: Reservation[];
  leftovers: Leftover[];
  /** The API server's pods with their IPs and nodes, as `kubectl get pods -o wide` in this host's bundle printed them. */
  podIps: PodIp[];
  /** Container runtimes' releases the bundle shows (podman version). */
  runtimeVersions: { runtime: string; version: string; ev: Evidence }[];
  /** When a firewall service replaced the kernel's rules (systemd's lines in a journal), oldest first. */
  firewallChanges: { at: number; daemon: string; message: string; ev: Evidence }[];
  /** Neighbour table entries (ip neigh, arp -an), each with the namespace whose table it is. */
  neighbors: Neighbor[];
  /** `ip netns list`: names under /run/netns and their nsids as seen from the host. */
  netnsNames: Map<string, { nsid?: number; ev: Evidence }>;
  daemon?: Daemon;
  events: TimelineEvent[];
  /** Which kinds of evidence the bundle had, so rules can say why they were skipped. */
  has: Set<string>;
  addresses: string[]; // global addresses of the host's own netns
}

/** Whether a node name (as the API server has it: a hostname, an FQDN or an address) is the host of this name and addresses. */
export function nodeMatches(name: string, addresses: readonly string[], node: string): boolean {
  if (name === node || addresses.includes(node)) return true;
  const isAddr = (s: string) => /^[\d.]+$|:/.test(s);
  return !isAddr(node) && !isAddr(name) && name.split('.')[0].toLowerCase() === node.split('.')[0].toLowerCase();
}

export function findContainer(host: Pick<HostModel, 'containers' | 'containerIndex'>, id: string): Container | undefined {
  const c = host.containers.get(id) ?? host.containerIndex.get(id.slice(0, 12));
  return c && (c.id.startsWith(id) || id.startsWith(c.id)) ? c : undefined;
}

/** The command that removes a container or sandbox, with why. */
export function removeCommand(c: Pick<Container, 'id' | 'runtime' | 'isSandbox' | 'podId' | 'ctrNamespace'>, why: string): string {
  // podman refuses to remove a pod's infra container alone ("cannot be removed without removing the pod").
  if (c.runtime === 'podman' && c.isSandbox && c.podId) return `podman pod rm -f ${c.podId.slice(0, 12)}   # ${why} (with the pod: podman removes its infra container only so)`;
  const nerdctl = c.ctrNamespace && c.ctrNamespace !== 'default' && /^[\w.-]+$/.test(c.ctrNamespace) ? `nerdctl -n ${c.ctrNamespace} rm -f` : 'nerdctl rm -f';
  const tool = c.runtime === 'cri' ? (c.isSandbox ? 'crictl rmp -f' : 'crictl rm -f') : c.runtime === 'podman' ? 'podman rm -f' : c.runtime === 'nerdctl' ? nerdctl : 'docker rm -f';
  return `${tool} ${c.id.slice(0, 12)}   # ${why}`;
}

/** "a dead", "an exited": the article for a state in prose. */
export function aState(state: string): string {
  return `${/^[aeiou]/.test(state) ? 'an' : 'a'} ${state}`;
}

/** "namespace/pod", or the pod alone, or undefined. */
export function podName(pod: string | undefined, namespace: string | undefined): string | undefined {
  return pod ? `${namespace ? `${namespace}/` : ''}${pod}` : undefined;
}

/** Human label for a container: short id, pod, state. */
export function containerLabel(c: Pick<Container, 'id' | 'pod' | 'podNamespace' | 'name' | 'state'>): string {
  const who = c.pod ? `pod ${podName(c.pod, c.podNamespace)}` : c.name ? `name ${c.name}` : '';
  return `${c.id.slice(0, 12)}${who ? ` (${who})` : ''}, state ${c.state}`;
}

export function processLabel(p: Process | undefined, pid: number): string {
  if (!p) return `pid ${pid}`;
  const cmd = p.args || p.comm || '?';
  return `pid ${pid} (${cmd.length > 80 ? `${cmd.slice(0, 77)}…` : cmd})`;
}

/** True when an address can be seen on the wire: not loopback, link-local or host-scoped, on an interface that answers ARP. */
export function isRoutableAddr(ip: string, scope: string, link: Link): boolean {
  if (scope === 'host' || scope === 'link' || scope === 'nowhere') return false;
  if (link.flags.includes('LOOPBACK') || link.flags.includes('NOARP')) return false;
  if (/^127\./.test(ip) || /^169\.254\./.test(ip) || ip === '::1' || /^fe[89ab]/i.test(ip)) return false;
  return true;
}
