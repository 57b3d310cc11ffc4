import type { ContainerRecord, ContainerState } from '../src/model/facts.js';
import { criTime, eachJsonItem, jsonObj as obj, jsonStr as str } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';


// containerd's processStatus for the sandbox task; "deleted" is synthetic: the task is gone (containerd/cri#479).
const PROCESS: Record<string, ContainerState> = { running: 'running', created: 'created', stopped: 'exited', paused: 'paused', deleted: 'exited', unknown: 'unknown' };


/** One sandbox from `crictl inspectp` (containerd's verbose PodSandboxStatus). */
export function sandboxFromInspectp(doc: unknown): ContainerRecord | undefined {
  const status = obj(obj(doc)?.status);
  const info = obj(obj(doc)?.info);
  const id = str(status?.id);
  if (!status || !id || !/^[0-9a-f]{12,64}$/.test(id)) return undefined;
  const meta = obj(status.metadata);
  const network = obj(status.network);
  const ips = new Set<string>();
  const ip = str(network?.ip);
  if (ip) ips.add(ip);
  for (const extra of Array.isArray(network?.additionalIps) ? network.additionalIps : []) if (str(obj(extra)?.ip)) ips.add(str(obj(extra)?.ip)!);
  const ifaces = obj(obj(info?.cniResult)?.Interfaces) ?? {};
  for (const [name, iface] of Object.entries(ifaces)) {
    if (name === 'lo') continue;
    for (const c of Array.isArray(obj(iface)?.IPConfigs) ? (obj(iface)!.IPConfigs as unknown[]) : []) if (str(obj(c)?.IP)) ips.add(str(obj(c)?.IP)!);
  }
  const specNs = obj(obj(info?.runtimeSpec)?.linux)?.namespaces;
  const specNet = Array.isArray(specNs) ? specNs.map(obj).find((n) => n?.type === 'network') : undefined;
  const processStatus = str(info?.processStatus);
  const pid = typeof info?.pid === 'number' && info.pid > 0 ? info.pid : undefined;
  const state: ContainerState = processStatus ? (PROCESS[processStatus] ?? 'unknown') : status.state === 'SANDBOX_READY' ? 'running' : 'exited';
  return {
    id,
    runtime: 'cri',
    name: str(meta?.name),
    pod: str(meta?.name),
    podNamespace: str(meta?.namespace),
    podUid: str(meta?.uid),
    isSandbox: true,
    state,
    pid,
    sandboxKey: str(info?.netNamespace) ?? str(specNet?.path),
    ips: [...ips].filter((x) => x !== '127.0.0.1' && x !== '::1').sort(),
    startedAt: criTime(status.createdAt),
    netnsClosed: typeof info?.netNamespaceClosed === 'boolean' ? info.netNamespaceClosed : undefined,
  };
}

export default defineParser({
  id: 'crictl-inspectp',
  describe: '`crictl inspectp` JSON (containerd, CRI-O): sandbox state, pid, netns path, netNamespaceClosed, pod IP',
  collect: 'for id in $(crictl pods -q); do crictl inspectp "$id"; done',
  recognise: {
    command: /^crictl\s+inspectp\b/,
    sniff: (h) => /^\s*[[{]/.test(h) && /"status"\s*:\s*\{/.test(h) && /"metadata"\s*:/.test(h) && /"(SANDBOX_READY|SANDBOX_NOTREADY)"/.test(h),
  },
  open(ctx) {
    return wholeText(ctx, (text, first) =>
      eachJsonItem(text, first, 'crictl inspectp', ctx.warn, (item, lineOf) => {
        const sb = sandboxFromInspectp(item);
        if (sb) ctx.emit({ kind: 'container', container: sb, ev: ctx.evidence(lineOf(sb.id), `"id": "${sb.id}" (pod ${sb.podNamespace ?? '?'}/${sb.pod ?? '?'}, process ${sb.state}${sb.netnsClosed === false ? ', netNamespaceClosed false' : ''}${sb.sandboxKey ? `, netns ${sb.sandboxKey}` : ''})`) });
      }),
    );
  },
});
