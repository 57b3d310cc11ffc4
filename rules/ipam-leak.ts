import type { Evidence } from '../src/model/facts.js';
import type { HostModel, Leftover, Reservation } from '../src/model/host.js';
import { containerLabel, removeCommand } from '../src/model/host.js';
import { defineRule, type Finding, findingContainer, namespacesWithIp, netnsName, uniqueEvidence, when } from '../src/engine/rule.js';
import { holderOf } from './ip-last-holder.js';
import { shellQuote } from '../src/util.js';

const SHOWN = 10;

const RANGE_SET_DRY = 'no IP addresses available in range set';

/**
 * Per store a reservation can be found in: how a finding names it, the error new pods meet when its pool runs dry,
 * and, where deleting the entry's file is not the fix, what to do for an entry whose container no longer exists.
 */
const STORES: Record<Reservation['via'], { name: (network?: string) => string; dry: string; gone?: (ip: string, id: string) => string }> = {
  'host-local': { name: (network) => `host-local IPAM store of network ${network ?? '?'}`, dry: RANGE_SET_DRY },
  'libcni-cache': { name: () => 'libcni result cache', dry: RANGE_SET_DRY },
  'azure-vnet': {
    name: (network) => `Azure CNI endpoint state (/var/run/azure-vnet.json) of network ${network ?? '?'}`,
    dry: 'Failed to allocate address: No available addresses',
    gone: (ip, id) => `# ${ip}: endpoint of ${id}, which no longer exists, stays in /var/run/azure-vnet.json until a DEL for it succeeds; cordon and drain the node, back the file up, then remove the endpoint from it`,
  },
};

/** The path on the host of a store file, from its place in the bundle (whatever prefix the bundle gave it). */
export function hostPath(source: string): string | undefined {
  const at = source.indexOf('var/lib/cni/');
  return at >= 0 ? `/${source.slice(at)}` : undefined;
}

// An inventory that knows none of the store's containers is another runtime's (docker installed beside containerd, say):
// it cannot say that those containers are gone.
const coverage = new WeakMap<HostModel, boolean>();
function inventoryCoversStore(host: HostModel): boolean {
  let v = coverage.get(host);
  if (v === undefined) {
    v = [...host.reservations, ...host.leftovers].some((r) => holderOf(host, r.containerId).container !== undefined);
    coverage.set(host, v);
  }
  return v;
}

/** Why a reservation outlived its container, or undefined when the container may still need it. */
function staleness(host: HostModel, containerId: string): { state: string; label: string; container?: ReturnType<typeof holderOf>['container'] } | undefined {
  const { container, state } = holderOf(host, containerId);
  if (state === 'gone' && !inventoryCoversStore(host)) return undefined;
  // A stopped sandbox has had its network torn down by StopPodSandbox: a reservation left for it means DEL failed.
  const stale = state === 'gone' || state === 'dead' || state === 'removing' || (container?.isSandbox && state === 'exited');
  if (!stale) return undefined;
  return { state, container, label: container ? containerLabel(container) : `${containerId.slice(0, 12)}, not in the runtime's inventory (gone)` };
}

export default defineRule({
  id: 'ipam-leak',
  severity: 'warning',
  summary: 'An IP reserved in the host-local store, the libcni cache or Azure CNI\'s endpoint state (or flannel/multus state) for a container that is dead or gone',
  needs: [
    { anyOf: ['ipReservation', 'cniLeftover'], what: 'CNI state on disk: /var/lib/cni/networks, /var/lib/cni/results, /var/lib/cni/flannel, /var/lib/cni/multus or /var/run/azure-vnet.json', collect: 'tar cf - /var/lib/cni /var/run/azure-vnet.json' },
    { anyOf: ['container'], what: 'a container inventory, to tell a live holder from a dead or gone one', collect: 'docker ps -a; docker inspect $(docker ps -aq); crictl pods; crictl inspectp $(crictl pods -q)' },
  ],
  explain: {
    detects: 'A file in the host-local IPAM store (/var/lib/cni/networks/<net>/<ip>) or the libcni result cache, an endpoint in Azure CNI\'s state file (/var/run/azure-vnet.json), or flannel/multus per-container state, whose container is dead, removing, a stopped sandbox, or missing from the inventory altogether (when the inventory knows at least one of the store\'s containers: one that knows none is another runtime\'s).',
    matters: 'Only a successful CNI DEL removes these files. Each one left behind keeps an address out of the pool; enough of them and every new pod fails with "no IP addresses available in range set" while the node still reports Ready (kubernetes/kubernetes#34278, #57280). A reservation may also mean the address is still configured in a leaked namespace.',
    fix: 'First make sure the address is not configured anywhere (see netns-leaked and ip-last-holder). Then remove the sandbox through the runtime so DEL runs again, or, for a container that no longer exists, delete the reservation file.',
    reference: 'kubernetes/kubernetes#34278; kubernetes/kubernetes#57280; containernetworking/cni#306; containernetworking/plugins#426; Azure/azure-container-networking#831',
  },
  evaluate(_run, hosts) {
    const findings: Finding[] = [];
    for (const host of hosts) {
      const groups = new Map<string, { items: (Reservation | Leftover)[]; what: string; store?: (typeof STORES)[Reservation['via']] }>();
      // Group: one finding per store (a network's host-local folder, the libcni cache, flannel's or multus's state folder).
      const add = (key: string, what: string, item: Reservation | Leftover, store?: (typeof STORES)[Reservation['via']]) => {
        const g = groups.get(key) ?? { items: [], what, store };
        g.items.push(item);
        groups.set(key, g);
      };
      for (const r of host.reservations)
        if (staleness(host, r.containerId)) add(`${r.via}\0${r.network ?? ''}`, STORES[r.via].name(r.network), r, STORES[r.via]);
      for (const l of host.leftovers) if (staleness(host, l.containerId)) add(`${l.via}\0`, `${l.via} per-container state`, l);
      // When the pool ran dry, by the runtime's word or the plugin's own (a failed ADD in its log), the latest.
      const EXHAUSTED = /no IP addresses available|no IP address available|range set|No available addresses/i;
      const exhausted: { who: string; at?: number; err: string; ev: Evidence }[] = [
        ...host.sandboxEvents.filter((e) => e.event === 'add-failed' && EXHAUSTED.test(e.err ?? e.message)).map((e) => ({ who: e.daemon, at: e.at, err: e.err ?? e.message, ev: e.ev })),
        ...host.cniOps.filter((o) => o.op === 'ADD' && o.err && EXHAUSTED.test(o.err)).map((o) => ({ who: 'the CNI plugin', at: o.at, err: o.err!, ev: o.ev })),
      ].sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
      for (const [, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
        g.items.sort((a, b) => ('ip' in a && 'ip' in b ? a.ip.localeCompare(b.ip, 'en', { numeric: true }) : a.containerId.localeCompare(b.containerId)));
        const ips = [...new Set(g.items.flatMap((i) => ('ip' in i ? [i.ip] : [])))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
        // In the items' order (by IP): the commands to fix follow the lines of the detail, and cover the same entries.
        const ids = [...new Set(g.items.map((i) => i.containerId))];
        const rows = g.items.slice(0, SHOWN).map((i) => {
          const s = staleness(host, i.containerId)!;
          const live = 'ip' in i ? namespacesWithIp(host, i.ip).filter((n) => !n.isHost) : [];
          return `${'ip' in i ? `${i.ip} → ` : ''}${s.label}${live.length ? `; the address is still configured in ${live.map(netnsName).join(', ')}` : ''}`;
        });
        const containers = ids.map((id) => staleness(host, id)!).map((s, k) => (s.container ? findingContainer(s.container) : { id: ids[k], state: s.state }));
        const lastExhausted = ips.length ? exhausted[exhausted.length - 1] : undefined;
        findings.push({
          rule: 'ipam-leak',
          severity: 'warning',
          host: host.name,
          title: `${g.items.length} ${g.items.length === 1 ? 'entry' : 'entries'} in the ${g.what} ${g.items.length === 1 ? 'belongs' : 'belong'} to dead or gone containers${ips.length ? `: ${ips.slice(0, 5).join(', ')}${ips.length > 5 ? ` and ${ips.length - 5} more` : ''}` : ''}`,
          detail: [
            `Only a successful CNI DEL removes these entries, so DEL never completed for ${ids.length === 1 ? 'this container' : `these ${ids.length} containers`}: ${rows.join('; ')}${g.items.length > SHOWN ? `; and ${g.items.length - SHOWN} more` : ''}.`,
            ips.length ? `Each keeps its address out of the pool; when the pool runs dry new pods fail with "${g.store?.dry ?? RANGE_SET_DRY}".` : 'flannel and multus read this state on DEL; the left-over files show DEL never ran (or failed) for these containers.',
            lastExhausted ? `That has happened here: ${lastExhausted.who}${lastExhausted.at !== undefined ? ` at ${when(host, lastExhausted.at)}` : ''}: ${lastExhausted.err}.` : '',
          ].filter(Boolean).join(' '),
          ips,
          containers,
          netns: [],
          pinnedBy: [],
          evidence: uniqueEvidence([...g.items.slice(0, SHOWN).map((i) => i.ev), ...(lastExhausted ? [lastExhausted.ev] : [])]),
          remediation: [
            '# first check that none of these addresses is still configured (see ip-last-holder / netns-leaked findings)',
            ...ids.slice(0, SHOWN).flatMap((id) => {
              const s = staleness(host, id)!;
              if (s.container) return [removeCommand(s.container, 'the runtime runs DEL again on removal')];
              return g.items.filter((i) => i.containerId === id).map((i) => {
                if (g.store?.gone && 'ip' in i) return g.store.gone(i.ip, id.slice(0, 12));
                const path = hostPath(i.ev.source);
                return path ? `rm -f ${shellQuote(path)}   # ${'ip' in i ? `${i.ip} reserved` : 'kept'} for ${id.slice(0, 12)}, which no longer exists` : `# remove the ${g.what} entry for ${id.slice(0, 12)}`;
              });
            }),
            ...(ids.length > SHOWN ? [`# … and the same for the other ${ids.length - SHOWN} containers`] : []),
          ],
        });
      }
    }
    return findings;
  },
});
