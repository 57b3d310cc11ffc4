import type { Container, HostModel, IpClaim, Netns, SandboxEvent } from '../src/model/host.js';
import { pushTo, shortId } from '../src/util.js';
import { containerLabel, findContainer, netnsId, podName, removeCommand } from '../src/model/host.js';
import { configuredAddrs, defineRule, type Finding, findingContainer, firewallChangeBefore, firewallRulesGone, isLeaked, namedByHand, netnsName, netnsSubject, teardownCause, uniqueEvidence, when } from '../src/engine/rule.js';
import { type Evidence, normalisePath } from '../src/model/facts.js';
import { sameId } from '../src/model/build.js';

const JOIN_MS = 2000; // an event naming neither sandbox nor pod belongs to a failure logged by the same file within 2 s
/**
 * Lines of one failed attempt come together: containerd's error and kubelet's about the same RPC within a millisecond,
 * kubelet's three or four about one failed sync (dockershim: cni.go, StopPodSandbox, KillPodSandbox) within 0.2 s.
 * kubelet retries no sooner than its pod worker's back-off (10 s), or its garbage collector's minute.
 */
const ATTEMPT_GAP_MS = 1000;

/**
 * How many times the teardown failed (`failures` in time order): log lines a second or less apart are one attempt,
 * whoever logged them; the cluster's events count their own repeats, of the same attempts the logs show, so the larger
 * of the two is told.
 */
function attemptCount(failures: readonly SandboxEvent[]): number {
  let logged = 0;
  let counted = 0;
  let lastAt = -Infinity;
  for (const f of failures) {
    if (f.times !== undefined) {
      counted += f.times;
      continue;
    }
    if (f.at - lastAt > ATTEMPT_GAP_MS) logged++;
    lastAt = f.at;
  }
  return Math.max(logged, counted);
}

interface Group {
  key: string;
  sandboxId?: string;
  pod?: string;
  podNamespace?: string;
  failures: SandboxEvent[];
  paths: Set<string>;
}

/** The netns of a sandbox: by its container record, else by a netns path the logs named. */
function netnsOf(host: HostModel, c: Container | undefined, paths: Set<string>): Netns | undefined {
  if (c?.netnsKey) return host.netns.get(c.netnsKey);
  for (const n of host.netns.values()) if (!n.isHost && n.paths.some((p) => paths.has(p))) return n;
  return undefined;
}

/** A host's unreleased claims by short container id, built once (a busy node's CNI log gives a hundred thousand). */
const openClaimIndex = new WeakMap<HostModel, Map<string, IpClaim[]>>();
function openClaims(host: HostModel): Map<string, IpClaim[]> {
  let m = openClaimIndex.get(host);
  if (!m) {
    m = new Map();
    for (const k of host.claims) if (!k.released) pushTo(m, shortId(k.containerId), k);
    openClaimIndex.set(host, m);
  }
  return m;
}

/** The host's podman release, when the bundle shows it, and whether it keeps a namespace after a failed teardown (before 4.3). */
function podmanRelease(host: HostModel): { version: string; ev: Evidence; keepsNamespace: boolean } | undefined {
  const v = host.runtimeVersions.find((r) => r.runtime === 'podman');
  if (!v) return undefined;
  const [major, minor] = v.version.split('.').map(Number);
  return { ...v, keepsNamespace: major < 4 || (major === 4 && minor < 3) };
}

/** What a failed teardown leaves behind with this host's podman. */
function podmanKeeps(release: ReturnType<typeof podmanRelease>): string {
  if (!release) return 'podman before 4.3 even kept the namespace mounted when its teardown failed (containers/podman#16016).';
  return release.keepsNamespace
    ? `This host's podman is ${release.version}: before 4.3 podman keeps the namespace mounted when its teardown fails (containers/podman#16016), so each failure leaves the namespace, its addresses and its veth behind.`
    : `This host's podman is ${release.version}, which removes the namespace even when the teardown fails (since 4.3, containers/podman#16016): what a failure leaves is firewall rules and IPAM entries.`;
}

export default defineRule({
  id: 'sandbox-teardown-failed',
  severity: 'warning',
  summary: 'kubelet or the runtime logged a failed network teardown for a sandbox, joined to what is still there',
  needs: [{ anyOf: ['sandboxEvent'], what: 'kubelet, containerd, CRI-O or podman logs, or the cluster\'s events (kubectl get events, kubectl describe pod)', collect: 'journalctl -u kubelet -u containerd -u crio --since "7 days ago" -o short-iso' }],
  explain: {
    detects: 'StopPodSandbox / KillPodSandbox / "failed to destroy network for sandbox" / "Error deleting network" (podman: "Unable to clean up network for container") and the like, grouped per sandbox and counted in attempts (the lines of one attempt, whoever logged them, come within a second; the cluster\'s events count their own), unless a later successful teardown or removal of the same sandbox was logged. Each is joined to what the bundle shows is left: the sandbox, its namespace, its addresses and IPAM reservations.',
    matters: 'A failed teardown is how a pod\'s IP and namespace outlive it. kubelet retries forever while the cause lasts (a plugin missing from the path, a datastore that is down, a netns path that no longer exists), so the same failure in a loop is the signature of a stuck pod.',
    fix: 'Fix the cause in the error (the plugin binary, the datastore, the path), then let kubelet retry or remove the sandbox (crictl rmp -f / docker rm -f); release whatever the finding shows is left over.',
    reference: 'kubernetes/kubernetes#57465; kubernetes/kubernetes#64940; bottlerocket-os/bottlerocket#359; containerd/containerd#5768; containerd/cri#732; containers/podman#16016 (podman kept the namespace when its teardown failed)',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      const groups = new Map<string, Group>();
      let unowned: Netns[] | undefined; // leaked namespaces no container owns, looked for once per host
      const keyOf = (e: SandboxEvent) => (e.sandboxId ? `id:${e.sandboxId.slice(0, 12)}` : e.pod ? `pod:${podName(e.pod, e.podNamespace)}` : undefined);
      const loose: SandboxEvent[] = [];
      for (const e of host.sandboxEvents) {
        if (e.event !== 'teardown-failed') continue;
        const key = keyOf(e);
        if (!key) {
          loose.push(e);
          continue;
        }
        const g = groups.get(key) ?? { key, failures: [], paths: new Set<string>() };
        g.sandboxId ??= e.sandboxId;
        g.pod ??= e.pod;
        g.podNamespace ??= e.podNamespace;
        g.failures.push(e);
        if (e.netnsPath) g.paths.add(normalisePath(e.netnsPath));
        groups.set(key, g);
      }
      // Failures of sandboxes with an id, by file and second: joining a line that names only the pod, or nothing, is then a
      // lookup (kubelet logs these in loops for days).
      const near = new Map<string, Group>();
      for (const g of groups.values()) if (g.sandboxId) for (const f of g.failures) near.set(`${f.ev.source}\0${Math.floor(f.at / 1000)}`, g);
      const nearby = (e: SandboxEvent): Group | undefined => {
        const sec = Math.floor(e.at / 1000);
        for (const d of [0, -1, 1, -2, 2]) {
          const g = near.get(`${e.ev.source}\0${sec + d}`);
          if (g && g.failures.some((f) => f.ev.source === e.ev.source && Math.abs(f.at - e.at) <= JOIN_MS)) return g;
        }
        return undefined;
      };
      const byPod = new Map<string, Group>();
      for (const g of groups.values()) if (g.sandboxId && g.pod) byPod.set(`${g.podNamespace ?? ''}/${g.pod}`, g);
      // A pod named in one line and its sandbox id in the next are one sandbox.
      for (const g of [...groups.values()]) {
        if (g.sandboxId || !g.pod) continue;
        const same = byPod.get(`${g.podNamespace ?? ''}/${g.pod}`) ?? g.failures.map(nearby).find((x) => x !== undefined);
        if (!same) continue;
        same.failures.push(...g.failures);
        g.paths.forEach((p) => same.paths.add(p));
        same.pod ??= g.pod;
        same.podNamespace ??= g.podNamespace;
        groups.delete(g.key);
      }
      for (const e of loose) {
        const g = nearby(e);
        if (g) {
          g.failures.push(e);
          if (e.netnsPath) g.paths.add(normalisePath(e.netnsPath));
        }
      }
      for (const g of [...groups.values()].sort((a, b) => a.key.localeCompare(b.key))) {
        g.failures.sort((a, b) => a.at - b.at || a.ev.line - b.ev.line);
        const last = g.failures[g.failures.length - 1];
        const times = attemptCount(g.failures);
        // A time from kubectl describe is its age counted back from the collection: about then, not at.
        const at = (f: SandboxEvent) => `${f.atHow === 'age' ? 'about' : 'at'} ${when(host, f.at)}`;
        const aged = g.failures[0].atHow === 'age' || last.atHow === 'age' ? ' (from ages in kubectl describe, counted back from the collection)' : '';
        const mine = (e: SandboxEvent) => (g.sandboxId && e.sandboxId ? sameId(e.sandboxId, g.sandboxId) : !!g.pod && e.pod === g.pod && e.podNamespace === g.podNamespace);
        const healed = host.sandboxEvents.find((e) => (e.event === 'teardown-ok' || e.event === 'removed') && e.at >= last.at && mine(e));
        if (healed) continue;
        const container = g.sandboxId ? findContainer(host, g.sandboxId) : [...host.containers.values()].find((c) => c.isSandbox && c.pod === g.pod && (!g.podNamespace || c.podNamespace === g.podNamespace));
        g.pod ??= container?.pod;
        g.podNamespace ??= container?.podNamespace;
        for (const e of host.sandboxEvents) if (mine(e) && e.netnsPath) g.paths.add(normalisePath(e.netnsPath));
        if (container?.sandboxKey) g.paths.add(normalisePath(container.sandboxKey));
        const netns = netnsOf(host, container, g.paths);
        const addrs = netns ? configuredAddrs(netns) : [];
        const ofSandbox = (id: string) => g.sandboxId !== undefined && sameId(id, g.sandboxId);
        const claims = g.sandboxId ? (openClaims(host).get(shortId(g.sandboxId)) ?? []).filter((k) => ofSandbox(k.containerId)) : [];
        const reservations = host.reservations.filter((r) => ofSandbox(r.containerId));
        const remains: string[] = [];
        const brief: string[] = [];
        if (container) {
          remains.push(`the sandbox ${containerLabel(container)}`);
          brief.push(`the ${container.state} sandbox`);
        }
        if (netns) {
          remains.push(`its network namespace ${netnsName(netns)}${isLeaked(netns) ? ' with no process in it' : ''}${addrs.length ? `, still configured with ${addrs.map((a) => `${a.ip} on ${a.ifname}`).join(', ')}` : ''}`);
          brief.push(addrs.length ? `its namespace with ${addrs.map((a) => a.ip).join(', ')}` : 'its namespace');
        }
        if (reservations.length) {
          remains.push(`IPAM reservations for ${reservations.map((r) => r.ip).join(', ')}`);
          brief.push(`the IPAM reservation of ${reservations.map((r) => r.ip).join(', ')}`);
        } else if (claims.length) {
          remains.push(`unreleased claims on ${[...new Set(claims.map((k) => k.ip))].join(', ')}`);
          brief.push(`the claim on ${[...new Set(claims.map((k) => k.ip))].join(', ')}`);
        }
        // Neither the inventory nor the logs name its namespace: a leaked namespace nobody owns may be it.
        const orphans = !container && !netns ? (unowned ??= [...host.netns.values()].filter((n) => isLeaked(n) && !n.containers.length && !namedByHand(host, n))) : [];
        if (orphans.length) brief.push(`maybe ${orphans.length === 1 ? 'the leaked namespace' : `one of ${orphans.length} leaked namespaces`} no container owns`);
        // When the bundle has an inventory and shows nothing left, the failure is history, not a problem.
        const canTell = host.has.has('container');
        const nothingLeft = canTell && !remains.length && !orphans.length;
        // podman has no sandboxes: each container (or a pod's infra container) owns its namespace.
        const podmanOnly = g.failures.every((f) => f.daemon === 'podman');
        const podman = podmanOnly ? podmanRelease(host) : undefined;
        const who = `${podmanOnly ? 'container' : 'sandbox'} ${g.sandboxId ? g.sandboxId.slice(0, 12) : '(id not logged)'}${g.pod ? ` (pod ${podName(g.pod, g.podNamespace)})` : ''}`;
        const daemons = [...new Set(g.failures.map((f) => f.daemon))].sort().join(' and ');
        const errors = [...new Set(g.failures.map((f) => f.err).filter((x): x is string => !!x))];
        const ips = [...new Set([...addrs.map((a) => a.ip), ...reservations.map((r) => r.ip), ...claims.map((k) => k.ip)])].sort();
        // When its network was set up: its CNI ADD, else when the runtime says it started.
        const started = container?.startedAt?.kind === 'exact' ? container.startedAt.utc : undefined;
        const setupAt = claims.reduce<number | undefined>((t, k) => (k.at !== undefined && (t === undefined || k.at < t) ? k.at : t), undefined) ?? started;
        const firewall = firewallChangeBefore(host, errors, g.failures[0].at, setupAt);
        findings.push({
          rule: 'sandbox-teardown-failed',
          severity: nothingLeft ? 'info' : 'warning',
          host: host.name,
          title: `${daemons} failed to tear down the network of ${who}${times > 1 ? ` (${times} times)` : ''}${nothingLeft ? '; nothing of it is left' : brief.length ? `; still there: ${brief.join(', ')}` : ''}`,
          detail: [
            `First failure ${at(g.failures[0])}, last ${at(last)}${aged}; ${podmanOnly ? `no successful teardown was logged after it. Removing the container does not redo it. ${podmanKeeps(podman)}` : 'no successful teardown or removal of this sandbox was logged after it.'}`,
            errors.length ? `The error${errors.length > 1 ? 's' : ''}: ${errors.slice(0, 3).map((e) => `"${e.length > 300 ? `${e.slice(0, 300)}…` : e}"`).join('; ')}${errors.length > 3 ? ` (and ${errors.length - 3} more)` : ''}.` : '',
            teardownCause(errors) ?? '',
            firewall?.text ?? '',
            remains.length ? `Still there: ${remains.join('; ')}.` : orphans.length ? `Neither the inventory nor the logs name its network namespace, so what is left of it cannot be told for sure; ${orphans.length === 1 ? `${netnsName(orphans[0])} has` : `${orphans.slice(0, 5).map(netnsName).join(', ')}${orphans.length > 5 ? ` and ${orphans.length - 5} more` : ''} have`} no process and belong${orphans.length === 1 ? 's' : ''} to no container the bundle knows: ${orphans.length === 1 ? 'it may be this one' : 'one of them may be this one'} (compare the addresses: see netns-leaked).` : canTell ? 'The inventory shows neither the sandbox nor its namespace or reservations: nothing is left over.' : 'The bundle has no container inventory, so whether anything is left over cannot be told.',
            [...g.paths].some((p) => /^\/proc\/\d+\/ns\/net$/.test(p)) ? 'The runtime handed the plugin /proc/<pid>/ns/net: once that process exited, DEL could no longer reach the namespace even if a bind mount kept it alive.' : '',
          ].filter(Boolean).join(' '),
          ips,
          containers: container ? [findingContainer(container)] : g.sandboxId ? [{ id: g.sandboxId, pod: podName(g.pod, g.podNamespace), state: canTell ? 'gone' : 'unknown' }] : [],
          netns: netns ? [netnsSubject(netns)] : orphans.slice(0, 5).map(netnsSubject),
          pinnedBy: [],
          evidence: uniqueEvidence([...(firewall ? [firewall.ev] : []), g.failures[0].ev, ...g.failures.slice(-4).map((f) => f.ev), ...(container ? [container.ev] : []), ...reservations.slice(0, 3).map((r) => r.ev), ...(podman ? [podman.ev] : [])]),
          remediation: nothingLeft
            ? []
            : [
                podmanOnly
                  ? '# fix the cause named in the error first (netavark or the CNI plugin, the firewall, the netns path): podman does not retry on its own'
                  : '# fix the cause named in the error first (plugin binary, datastore, netns path); kubelet then retries',
                ...(podmanOnly && firewallRulesGone(errors) ? ['podman network reload --all   # puts back the firewall rules of the running containers after a firewall reload'] : []),
                ...(podman?.keepsNamespace ? [`# upgrade podman (${podman.version} here) to 4.3 or later: it then removes the namespace even when the teardown fails (containers/podman#16016)`] : []),
                ...(netns && isLeaked(netns) ? [`# the namespace has no process: see the netns-leaked finding for ${netnsId(netns)}`] : []),
                ...orphans.slice(0, 5).map((n) => `# maybe its namespace (no process, no known owner): see the netns-leaked finding for ${netnsId(n)}`),
                ...(container ? [removeCommand(container, 'removing the sandbox runs the network teardown again')] : []),
              ],
        });
      }
    }
    return findings;
  },
});
