import type { ContainerRecord, ContainerState } from '../src/model/facts.js';
import { criTime, eachJsonItem, jsonObj as obj, jsonStr as str } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';

// `crictl inspect <container>` (containerd, CRI-O): ContainerStatus plus the runtime's verbose info.
//   {"status": {"id", "metadata": {"name"}, "state": "CONTAINER_RUNNING", "labels": {io.kubernetes.pod.*},
//               "mounts": [{"containerPath": "/var/run", "hostPath": "/var/run", "propagation": "PROPAGATION_PRIVATE"}]},
//    "info": {"sandboxID": "…", "pid": 1234, "runtimeSpec": {"mounts": [{"destination", "source", "type": "bind"}]}}}
// (containerd/cri#475, #479). Its mounts say which host paths a container binds: what hostpath-run-pin needs.
const STATES: Record<string, ContainerState> = { CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'exited', CONTAINER_CREATED: 'created', CONTAINER_UNKNOWN: 'unknown' };


export function containerFromCrictlInspect(doc: unknown): ContainerRecord | undefined {
  const status = obj(obj(doc)?.status);
  const info = obj(obj(doc)?.info);
  const id = str(status?.id);
  const state = str(status?.state);
  if (!status || !id || !/^[0-9a-f]{12,64}$/.test(id) || !state?.startsWith('CONTAINER_')) return undefined;
  const labels = obj<Record<string, unknown>>(status.labels) ?? {};
  const binds: { source: string; destination: string }[] = [];
  for (const m of Array.isArray(status.mounts) ? status.mounts : []) {
    const source = str(obj(m)?.hostPath);
    const destination = str(obj(m)?.containerPath);
    if (source && destination) binds.push({ source, destination });
  }
  if (!binds.length) {
    const spec = obj(obj(info?.runtimeSpec));
    for (const m of Array.isArray(spec?.mounts) ? spec.mounts : []) {
      const source = str(obj(m)?.source);
      const destination = str(obj(m)?.destination);
      if (source && destination && source.startsWith('/') && obj(m)?.type === 'bind') binds.push({ source, destination });
    }
  }
  const pid = typeof info?.pid === 'number' && info.pid > 0 ? info.pid : undefined;
  return {
    id,
    runtime: 'cri',
    name: str(obj(status.metadata)?.name),
    pod: str(labels['io.kubernetes.pod.name']),
    podNamespace: str(labels['io.kubernetes.pod.namespace']),
    podUid: str(labels['io.kubernetes.pod.uid']),
    isSandbox: false,
    sandboxOf: str(info?.sandboxID),
    state: STATES[state] ?? 'unknown',
    pid,
    ips: [],
    startedAt: criTime(status.startedAt) ?? criTime(status.createdAt),
    finishedAt: criTime(status.finishedAt),
    binds: binds.length ? binds : undefined,
  };
}

export default defineParser({
  id: 'crictl-inspect',
  describe: '`crictl inspect` JSON of containers (containerd, CRI-O): state, pid, pod, sandbox and the host paths each one mounts',
  collect: 'for id in $(crictl ps -aq); do crictl inspect "$id"; done',
  recognise: {
    command: /^crictl\s+inspect(?:\s|$)/,
    sniff: (h) => /^\s*[[{]/.test(h) && /"status"\s*:\s*\{/.test(h) && /"CONTAINER_(?:RUNNING|EXITED|CREATED|UNKNOWN)"/.test(h),
  },
  open(ctx) {
    return wholeText(ctx, (text, first) =>
      eachJsonItem(text, first, 'crictl inspect', ctx.warn, (item, lineOf) => {
        const c = containerFromCrictlInspect(item);
        if (!c) return;
        const mounts = c.binds?.map((b) => `${b.source}:${b.destination}`).join(', ');
        ctx.emit({ kind: 'container', container: c, ev: ctx.evidence(lineOf(c.id), `"id": "${c.id}" (${c.name ?? '?'} in pod ${c.podNamespace ?? '?'}/${c.pod ?? '?'}, ${c.state}${c.pid ? `, pid ${c.pid}` : ''}${mounts ? `, mounts ${mounts}` : ''})`) });
      }),
    );
  },
});
