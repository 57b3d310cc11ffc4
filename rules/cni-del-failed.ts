import type { CniOp } from '../src/model/host.js';
import { containerLabel, netnsId, podName, removeCommand } from '../src/model/host.js';
import { defineRule, type Finding, findingContainer, firewallChangeBefore, netnsSubject, teardownCause, uniqueEvidence, when } from '../src/engine/rule.js';
import { holderOf } from './ip-last-holder.js';
import { pushTo, shortId } from '../src/util.js';

export default defineRule({
  id: 'cni-del-failed',
  severity: 'warning',
  summary: 'A CNI DEL returned an error, or a dead or gone container had an ADD and never a DEL',
  needs: [{ anyOf: ['cniOp'], what: 'CNI plugin ADD/DEL log lines', collect: 'cat /var/log/cni/*.log (the plugin\'s log)' }],
  explain: {
    detects: 'A CNI DEL that failed (the plugin logged an error), or a container that is dead or gone although the CNI log shows its ADD and no successful DEL.',
    matters: 'DEL is what removes the interface and releases the IP. Without it the IP stays reserved or, worse, configured in a namespace that nobody will clean up. A DEL given /proc/<pid>/ns/net after that pid exited cannot reach a namespace that survives through a bind mount.',
    fix: 'Release the namespace (see netns-leaked), then release the IP in the IPAM store; re-run the DEL with the runtime\'s tools (e.g. remove the sandbox with crictl rmp / docker rm -f).',
    reference: 'kubernetes/kubernetes#57465; kubernetes/kubernetes#86944; containerd/containerd#5768',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      let addsByIp: Map<string, CniOp[]> | undefined; // built when a failed DEL asks for it
      const byContainer = new Map<string, CniOp[]>();
      for (const op of host.cniOps) {
        pushTo(byContainer, shortId(op.containerId), op);
      }
      for (const [, ops] of [...byContainer].sort(([a], [b]) => a.localeCompare(b))) {
        const id = ops.reduce((longest, o) => (o.containerId.length > longest.length ? o.containerId : longest), '');
        const adds = ops.filter((o) => o.op === 'ADD' && !o.err);
        const dels = ops.filter((o) => o.op === 'DEL');
        const okDel = dels.filter((o) => !o.err);
        const failed = dels.filter((o) => o.err);
        const lastAdd = adds[adds.length - 1];
        const deletedAfterAdd = lastAdd ? okDel.some((d) => (d.at ?? 0) >= (lastAdd.at ?? 0)) : okDel.length > 0;
        const { container, state } = holderOf(host, id);
        const deadOrGone = ['dead', 'gone', 'removing'].includes(state);
        // A DEL that failed after a clean one (kubelet tears a sandbox down again; the retry finds no /proc/<pid>/ns/net)
        // left nothing behind: the clean one may be in an older log file, kept there only as the container's id.
        const unresolvedFailure = failed.length > 0 && !deletedAfterAdd && !host.cniReleasedBefore.has(shortId(id));
        const missingDel = lastAdd && !deletedAfterAdd && deadOrGone && !failed.length;
        if (!unresolvedFailure && !missingDel) continue;
        const ips = [...new Set(adds.flatMap((o) => o.ips))].sort();
        // An address given to another container after this one's last ADD: the IPAM freed it although DEL failed, and
        // "never released" would be untrue; what may be left is the address still configured in this one's namespace.
        const givenAgain = unresolvedFailure && ips.length ? reassigned((addsByIp ??= successfulAddsByIp(host.cniOps)), shortId(id), ips, lastAdd?.at) : [];
        const netns = container?.netnsKey ? host.netns.get(container.netnsKey) : undefined;
        const who = container ? containerLabel(container) : `${id.slice(0, 12)}${lastAdd?.pod ? ` (pod ${podName(lastAdd.pod, lastAdd.podNamespace)})` : ''}, state ${state}`;
        // The path DEL was handed is the one that failed; /proc/<pid>/ns/net dies with its process even when a mount keeps the namespace.
        const lostPath = failed.find((f) => f.netnsPath && /^\/proc\/\d+\/ns\/net$/.test(f.netnsPath) && /no such file|ENOENT|Statfs|cannot open|not found/i.test(f.err ?? ''))?.netnsPath;
        const firewall = firewallChangeBefore(host, failed.map((f) => f.err ?? ''), failed.find((f) => f.at !== undefined)?.at, lastAdd?.at);
        const why = lostPath ? `The runtime handed the plugin ${lostPath}: once that process exited, DEL could no longer reach the namespace, even though a bind mount kept it alive.` : '';
        findings.push({
          rule: 'cni-del-failed',
          severity: 'warning',
          host: host.name,
          title: unresolvedFailure
            ? `CNI DEL failed for ${who}${givenAgain.length ? `; ${givenAgain.map((g) => g.ip).join(', ')} was given to another container since` : ips.length ? `; ${ips.join(', ')} was never released` : ''}`
            : `Container ${who} had a CNI ADD${ips.length ? ` for ${ips.join(', ')}` : ''} and never a DEL`,
          detail: [
            lastAdd ? `ADD${lastAdd.at !== undefined ? ` at ${when(host, lastAdd.at)}` : ''} via ${lastAdd.netnsPath ?? 'an unknown netns path'}${ips.length ? ` gave ${ips.join(', ')}` : ''}.` : '',
            ...failed.slice(-3).map((f) => `DEL${f.at !== undefined ? ` at ${when(host, f.at)}` : ''} failed: ${f.err}.`),
            failed.length > 3 ? `(${failed.length} failed DELs in all.)` : '',
            ...givenAgain.map((g) => `${g.ip} was given to ${g.op.containerId.slice(0, 12)}${g.op.pod ? ` (pod ${podName(g.op.pod, g.op.podNamespace)})` : ''}${g.op.at !== undefined ? ` at ${when(host, g.op.at)}` : ''}, although no DEL of this container had succeeded: if its namespace still exists, the address is live in both (see ip-conflict).`),
            missingDel ? `No DEL for it appears in the CNI log, and the container is ${state}.` : '',
            why,
            teardownCause(failed.map((f) => f.err ?? '')) ?? '',
            firewall?.text ?? '',
            netns ? `Its namespace ${netnsId(netns)} is still in the bundle.` : '',
          ].filter(Boolean).join(' '),
          ips,
          containers: container ? [findingContainer(container)] : [{ id, pod: lastAdd?.pod ? `${podName(lastAdd.pod, lastAdd.podNamespace)}` : undefined, state }],
          netns: netns ? [netnsSubject(netns)] : [],
          pinnedBy: [],
          evidence: uniqueEvidence([...(lastAdd ? [lastAdd.ev] : []), ...(firewall ? [firewall.ev] : []), ...failed.slice(-5).map((o) => o.ev), ...givenAgain.map((g) => g.op.ev), ...(container ? [container.ev] : [])]),
          remediation: [
            ...(netns ? [`# release the namespace first: see the netns-leaked finding for ${netnsId(netns)}`] : []),
            ...(container ? [removeCommand(container, 'the runtime retries the network teardown on removal')] : []),
          ],
        });
      }
    }
    return findings;
  },
});

/** The successful ADDs per address, in time order (as cniOps are). */
function successfulAddsByIp(ops: readonly CniOp[]): Map<string, CniOp[]> {
  const by = new Map<string, CniOp[]>();
  for (const o of ops) if (o.op === 'ADD' && !o.err) for (const ip of o.ips) pushTo(by, ip, o);
  return by;
}

/** Per address, the first successful ADD of another container that was given it after `since` (this one's last ADD). */
function reassigned(addsByIp: Map<string, CniOp[]>, id: string, ips: readonly string[], since: number | undefined): { ip: string; op: CniOp }[] {
  const out: { ip: string; op: CniOp }[] = [];
  for (const ip of ips) {
    const op = addsByIp.get(ip)?.find((o) => shortId(o.containerId) !== id && o.at !== undefined && (since === undefined || o.at >= since));
    if (op) out.push({ ip, op });
  }
  return out;
}
