import type { Evidence, Link } from '../model/facts.js';
import { localText } from '../timeline/time.js';
import type { Container, HostModel, MountNamespace, Neighbor, Netns, PodIp, Process } from '../model/host.js';
import { nodeMatches, podName } from '../model/host.js';
import { pushTo } from '../util.js';

export type Severity = 'error' | 'warning' | 'info';
export const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

export interface FindingContainer {
  id: string;
  name?: string;
  pod?: string;
  state: string;
}

export interface Pinner {
  kind: 'mount' | 'fd';
  pid: number;
  ppid?: number;
  command?: string;
  started?: string; // ISO 8601 UTC
  mntns?: string;
  path?: string;
  fd?: number;
}

export interface Finding {
  rule: string;
  severity: Severity;
  host: string;
  title: string;
  detail: string;
  ips: string[];
  containers: FindingContainer[];
  netns: { inode?: string; paths: string[] }[];
  pinnedBy: Pinner[];
  evidence: Evidence[];
  remediation: string[];
}

/** A kind of evidence a rule cannot do without: any one of `anyOf` (fact kinds or "parser:<id>") will do. */
export interface Need {
  anyOf: string[];
  what: string;
  collect: string;
}

export interface RunModel {
  hosts: HostModel[];
}

export interface Rule {
  id: string;
  severity: Severity; // the highest it reports
  summary: string;
  /** Checked per host; a host that lacks one is skipped by this rule, with the reason. */
  needs: Need[];
  /** Longer text for `forensics explain`. */
  explain: { detects: string; matters: string; fix: string; reference: string };
  evaluate(run: RunModel, hosts: HostModel[]): Finding[];
}

export function defineRule(r: Rule): Rule {
  return r;
}

// Shared helpers for rules: turning model objects into finding subjects.

export function findingContainer(c: Container): FindingContainer {
  return { id: c.id, name: c.name, pod: c.pod ? `${podName(c.pod, c.podNamespace)}` : undefined, state: c.state };
}

export function netnsSubject(n: Netns): { inode?: string; paths: string[] } {
  return { inode: n.inode, paths: [...n.paths].sort() };
}

export function netnsName(n: Netns): string {
  // Without an inode the mount is all there is: a kernel before 3.19 shows a `proc` mount, /proc/mounts an nsfs one.
  const why = n.mounts.some((m) => m.fstype === 'proc') ? 'no inode: kernel before 3.19' : 'no inode: /proc/mounts shows none';
  if (!n.inode) return n.paths.length ? `the netns mounted at ${[...n.paths].sort().join(', ')} (${why})` : n.key;
  return n.paths.length ? `net:[${n.inode}] at ${[...n.paths].sort().join(', ')}` : `net:[${n.inode}]`;
}

export function commandOf(p: Process | undefined): string | undefined {
  return p?.args || p?.comm;
}

export function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A time for prose: the host's local time with its offset, as the evidence lines show it. */
export function when(host: HostModel, ms: number | undefined): string {
  return ms === undefined ? 'an unknown time' : localText(ms, host.clock.zone);
}

/** Host-namespace interfaces paired (veth) with interfaces of `n`: each one's "@ifN" is the other's ifindex. */
export function hostPeers(host: HostModel, n: Netns): { inner: Link; outer: Link }[] {
  const hostNs = [...host.netns.values()].find((x) => x.isHost);
  if (!hostNs || hostNs === n) return [];
  const outer = hostNs.views.flatMap((v) => v.links);
  const out: { inner: Link; outer: Link }[] = [];
  for (const inner of n.views.flatMap((v) => v.links)) {
    // A veth pair names each other's ifindex; macvlan/ipvlan's "@ifN" is the parent device, which names nothing back.
    if (inner.peerIfindex === undefined || (inner.type !== undefined && inner.type !== 'veth')) continue;
    const o = outer.find((l) => l.ifindex === inner.peerIfindex && l.peerIfindex === inner.ifindex);
    if (o && !out.some((x) => x.outer === o)) out.push({ inner, outer: o });
  }
  return out;
}

export function mntnsName(m: MountNamespace): string {
  if (m.isHost && !m.inode) return "the host's mount namespace (pid 1's)";
  return `${m.inode ? `mnt:[${m.inode}]` : `the mount namespace of ${m.key}`}${m.isHost ? ' (the host\'s, pid 1)' : m.isDaemon ? ' (the container daemon\'s)' : ''}`;
}

/** Routable addresses configured in a namespace, per the `ip addr` views in the bundle. */
export function configuredAddrs(n: Netns): { ip: string; prefix: number; ifname: string; peerIfindex?: number; type?: string; mac?: string; ev: Evidence }[] {
  const out: { ip: string; prefix: number; ifname: string; peerIfindex?: number; type?: string; mac?: string; ev: Evidence }[] = [];
  const seen = new Set<string>();
  for (const v of n.views)
    for (const l of v.links)
      for (const a of l.addrs) {
        if (a.scope === 'host' || a.scope === 'link' || l.flags.includes('LOOPBACK') || /^127\./.test(a.ip) || a.ip === '::1') continue;
        const k = `${a.ip}/${l.name}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ ip: a.ip, prefix: a.prefix, ifname: l.name, peerIfindex: l.peerIfindex, type: l.type, mac: l.mac?.toLowerCase(), ev: a.ev });
      }
  return out;
}

const addressIndexes = new WeakMap<HostModel, Map<string, Netns[]>>();

/** Namespaces of a host by the routable address configured in them, built once per host (rules ask per IP). */
export function namespacesWithIp(host: HostModel, ip: string): Netns[] {
  let index = addressIndexes.get(host);
  if (!index) {
    index = new Map();
    for (const n of [...host.netns.values()].sort((a, b) => a.key.localeCompare(b.key)))
      for (const ipOfN of new Set(configuredAddrs(n).map((a) => a.ip))) pushTo(index, ipOfN, n);
    addressIndexes.set(host, index);
  }
  return index.get(ip) ?? [];
}

/** The neighbour-table entries of every host that map `ip` to a MAC, each with its table's name ("neighbour table of …"). */
export function neighborsOf(hosts: readonly HostModel[], ip: string): { host: HostModel; entry: Neighbor; table: string }[] {
  const out: { host: HostModel; entry: Neighbor; table: string }[] = [];
  for (const host of hosts)
    for (const entry of host.neighbors)
      if (entry.ip === ip && entry.mac) out.push({ host, entry, table: `neighbour table of ${entry.netns.isHost ? host.name : `${netnsName(entry.netns)} on ${host.name}`}` });
  return out;
}

/** A namespace with no member process that something still holds. */
export function isLeaked(n: Netns): boolean {
  return !n.isHost && n.members.length === 0 && !n.livenessUnknown && !n.processless && (n.mounts.length > 0 || n.fds.length > 0);
}

// Names container runtimes give the namespaces they mount: docker's sandbox id (/run/docker/netns/<hex>), containerd's
// cni-<uuid>, CRI-O's <uuid>, podman's netns-<uuid> (cni-<uuid> before 4.0).
const RUNTIME_NAME = /^(?:cni-.+|netns-.+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * A leaked namespace someone may keep on purpose: mounted only under a netns directory with a name no runtime gives
 * (`ip netns add vpn`), owned by no container, with no CNI claim naming it. No process in it is its normal state.
 */
export function namedByHand(host: HostModel, n: Netns): boolean {
  if (n.containers.length || !n.paths.length || !n.mounts.length) return false;
  const names = n.paths.map((p) => /^\/run\/(?:user\/\d+\/)?netns\/([^/]+)$/.exec(p)?.[1]);
  if (names.some((x) => x === undefined || RUNTIME_NAME.test(x))) return false;
  let claimed = claimedPaths.get(host);
  if (!claimed) claimedPaths.set(host, (claimed = new Set(host.claims.flatMap((k) => (k.netnsPath === undefined ? [] : [k.netnsPath])))));
  return !n.paths.some((p) => claimed.has(p));
}
const claimedPaths = new WeakMap<HostModel, Set<string>>(); // netns paths CNI calls named, per host (a busy node has 100,000 claims)

// "Chain 'CNI-…' does not exist", "No chain/target/match by that name", "Bad rule (does a matching rule exist in that chain?)"
const RULES_GONE = /Chain '?[\w-]+'? does not exist|No chain\/target\/match by that name|Bad rule \(does a matching rule exist in that chain\?\)|Couldn't load target `[\w-]+'/;

// What a teardown's error text says about its cause, from the mechanism: each a signature and what it means.
const TEARDOWN_CAUSES: [RegExp, (m: RegExpExecArray) => string][] = [
  [
    RULES_GONE,
    () => 'The error says the firewall rules or chains the network plugin added are already gone, so deleting them failed: a firewall reload (`firewall-cmd --reload`, a restart of firewalld or nftables) or an `iptables -F` drops the rules other programs added (containers/podman#8048, containers/netavark#230).',
  ],
  [
    // libcni: failed to find plugin "calico" in path [/opt/cni/bin]
    /failed to find plugin "([^"]+)" in path \[([^\]]*)\]/,
    (m) => `The error says the plugin binary "${m[1]}" is not in the CNI path (${m[2] || 'empty'}): it was removed or never installed on this node (an upgrade, or the network's DaemonSet has not put it back yet), and no DEL can run until it is there again.`,
  ],
  [
    // calico to the API server, the AWS plugin to ipamd, a plugin to its etcd
    /dial tcp [^:]+:\d+: (?:connect: connection refused|i\/o timeout)|context deadline exceeded|connect: no route to host/,
    () => 'The error says the plugin could not reach the service it keeps its state in (the API server, etcd, an IPAM daemon): the DEL can succeed once that service is up again, and kubelet retries until then.',
  ],
];

/** Why a teardown failed, when its error text says (see TEARDOWN_CAUSES); each cause once. */
export function teardownCause(errors: readonly string[]): string | undefined {
  const out: string[] = [];
  for (const [re, say] of TEARDOWN_CAUSES)
    for (const e of errors) {
      const m = re.exec(e);
      if (m) {
        out.push(say(m));
        break;
      }
    }
  return out.length ? out.join(' ') : undefined;
}

/** Whether the errors say the firewall rules a plugin added were dropped under it. */
export const firewallRulesGone = (errors: readonly string[]): boolean => errors.some((e) => RULES_GONE.test(e));

/**
 * When the errors say the plugin's firewall rules were gone: the last time the host's journal shows a firewall service
 * replacing the kernel's rules before the first failure (`firstAt`, ms) and after the network was set up (`setupAt`, when
 * known: a firewall started at boot, before the sandbox, dropped none of its rules), said in a sentence, with its line;
 * else undefined (no such error, no such line, or none in between).
 */
export function firewallChangeBefore(host: HostModel, errors: readonly string[], firstAt: number | undefined, setupAt?: number): { text: string; ev: Evidence } | undefined {
  if (firstAt === undefined || !firewallRulesGone(errors)) return undefined;
  let last: HostModel['firewallChanges'][number] | undefined;
  for (const c of host.firewallChanges) if (c.at <= firstAt && (setupAt === undefined || c.at >= setupAt)) last = c;
  if (!last) return undefined;
  const step = /^(reloaded|started|stopped)\b/.exec(last.message)?.[1] ?? 'reloaded';
  const after = setupAt !== undefined ? ` and after its network was set up (${when(host, setupAt)}): that is when its rules were dropped` : ': if its network was set up before then, that is when its rules were dropped';
  return { text: `The journal shows ${last.daemon} ${step} at ${when(host, last.at)}, ${spanText(firstAt - last.at)} before the first failure${after}.`, ev: last.ev };
}

/** "40 s", "3 min", "2 h 5 min", "4 days": a span in plain words, rounded down. */
function spanText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  const d = Math.floor(s / 86400);
  return `${d} day${d === 1 ? '' : 's'}`;
}

/**
 * Where the API server says an IP lives: the pods `kubectl get pods -o wide` (in any bundle of the run) lists with it and
 * a status that still holds it. A node's own address (a host-network pod) is not a pod IP.
 */
export function apiPodsWithIp(hosts: readonly HostModel[], ip: string): PodIp[] {
  if (hosts.some((h) => h.addresses.includes(ip))) return [];
  const seen = new Set<string>();
  const out: PodIp[] = [];
  for (const h of hosts)
    for (const p of h.podIps) {
      const key = `${p.podNamespace ?? ''}/${p.pod}`;
      if (p.ip !== ip || !p.holds || seen.has(key)) continue;
      seen.add(key);
      out.push(p);
    }
  return out;
}

/** Whether a node name (as the API server has it: a hostname, an FQDN or an address) is this host. */
export function isNode(host: HostModel, node: string): boolean {
  return nodeMatches(host.name, host.addresses, node);
}

/** "pod demo/web-1 on node 10.2.1.6 (Running)". */
export function apiPodText(p: PodIp): string {
  return `pod ${p.podNamespace ? `${p.podNamespace}/` : ''}${p.pod}${p.node ? ` on node ${p.node}` : ''} (${p.status})`;
}

export function uniqueEvidence(evs: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const e of evs) {
    const k = `${e.source}\0${e.line}\0${e.text}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(e);
    }
  }
  return out;
}

