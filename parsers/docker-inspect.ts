import type { ContainerRecord, ContainerState, Stamp } from '../src/model/facts.js';
import { eachJsonItem, jsonObj as obj, jsonStr as str } from '../src/recognise/json.js';
import { CONTAINER_CLI, nerdctlCommand } from '../src/recognise/command.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';

interface Inspect {
  Id?: string; Name?: string;
  State?: { Status?: string; Running?: boolean; Paused?: boolean; Restarting?: boolean; Dead?: boolean; Pid?: number; StartedAt?: string; FinishedAt?: string; Error?: string; ConmonPid?: number };
  // podman's own keys (libpod's InspectContainerData): the pod, whether this is its infra container, the OCI runtime
  Pod?: string; IsInfra?: boolean; OCIRuntime?: string; ConmonPidFile?: string;
  HostConfig?: { NetworkMode?: string };
  Mounts?: { Source: string; Destination: string }[];
  Config?: { Labels?: Record<string, string> | null };
  NetworkSettings?: { SandboxID?: string; SandboxKey?: string; IPAddress?: string; Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string } | null> | null };
}

const STATES: ContainerState[] = ['running', 'paused', 'restarting', 'removing', 'dead', 'created', 'exited'];
// podman's states beyond docker's (libpod/define/containerstate.go): "configured" and "initialized" have no process
// yet, "stopping" still has one, "stopped" has exited.
const PODMAN_STATES: Record<string, ContainerState> = { configured: 'created', initialized: 'created', stopping: 'running', stopped: 'exited' };

function dockerTime(s: string | undefined): Stamp | undefined {
  if (!s || s.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : { kind: 'exact', utc: ms };
}

function stateOf(st: Inspect['State']): ContainerState {
  const s = st?.Status?.toLowerCase();
  if (s && (STATES as string[]).includes(s)) return s as ContainerState;
  if (s && s in PODMAN_STATES) return PODMAN_STATES[s];
  // Docker < 1.10 has no Status: derive it as moby's StateString() does.
  if (!st) return 'unknown';
  if (st.Running) return st.Paused ? 'paused' : st.Restarting ? 'restarting' : 'running';
  if (st.Dead) return 'dead';
  return dockerTime(st.StartedAt) ? 'exited' : 'created';
}

// dockershim names: k8s_POD_<pod>_<ns>_<uid>_<attempt>; pre-CRI: k8s_POD.<hash>_<pod>_<ns>_<uid>_<hash>
const K8S_NAME = /^\/?k8s_([^_.]+)(?:\.[0-9a-f]+)?_([^_]+)_([^_]+)_([^_]+)_[^_]+$/;


/** podman inspect prints docker's keys and some of its own; any of these tells it is podman's. */
function isPodman(raw: Inspect): boolean {
  return typeof raw.OCIRuntime === 'string' || typeof raw.ConmonPidFile === 'string' || typeof raw.IsInfra === 'boolean' || typeof obj<NonNullable<Inspect['State']>>(raw.State)?.ConmonPid === 'number';
}

/** Where an inspect's JSON came from, when its command line says: nerdctl, and its containerd namespace. */
export interface InspectSource {
  nerdctlNamespace?: string;
}

/**
 * One container from `docker inspect`, `podman inspect` or `nerdctl inspect`, taking only fields of the expected type
 * (the JSON comes from strangers).
 */
export function containerFromInspect(raw: Inspect, source: InspectSource = {}): ContainerRecord | undefined {
  if (typeof raw.Id !== 'string' || !/^[0-9a-f]{12,64}$/.test(raw.Id)) return undefined;
  const st = obj<NonNullable<Inspect['State']>>(raw.State);
  const net = obj<NonNullable<Inspect['NetworkSettings']>>(raw.NetworkSettings);
  const c: Inspect = {
    Id: raw.Id,
    Name: str(raw.Name),
    State: st && { Status: str(st.Status), Running: st.Running === true, Paused: st.Paused === true, Restarting: st.Restarting === true, Dead: st.Dead === true, Pid: typeof st.Pid === 'number' ? st.Pid : undefined, StartedAt: str(st.StartedAt), FinishedAt: str(st.FinishedAt), Error: str(st.Error) },
    HostConfig: { NetworkMode: str(obj<NonNullable<Inspect['HostConfig']>>(raw.HostConfig)?.NetworkMode) },
    Config: { Labels: Object.fromEntries(Object.entries(obj<Record<string, unknown>>(obj<NonNullable<Inspect['Config']>>(raw.Config)?.Labels) ?? {}).filter(([, v]) => typeof v === 'string')) as Record<string, string> },
    Mounts: (Array.isArray(raw.Mounts) ? raw.Mounts : [])
      .map((m) => obj<{ Source?: unknown; Destination?: unknown }>(m))
      .filter((m) => m && typeof m.Source === 'string' && typeof m.Destination === 'string')
      .map((m) => ({ Source: m!.Source as string, Destination: m!.Destination as string })),
    NetworkSettings: net && { SandboxID: str(net.SandboxID), SandboxKey: str(net.SandboxKey), IPAddress: str(net.IPAddress), Networks: obj(net.Networks) },
  };
  const labels = c.Config?.Labels ?? {};
  const name = c.Name?.replace(/^\//, '') || undefined;
  const k8s = name ? K8S_NAME.exec(name) : null;
  const networkMode = c.HostConfig?.NetworkMode;
  const sharedNet = networkMode?.startsWith('container:') ? networkMode.slice('container:'.length) : undefined;
  const type = labels['io.kubernetes.docker.type'];
  const podman = isPodman(raw);
  // nerdctl prints docker's keys too: its labels ("nerdctl/name", "nerdctl/namespace") or its command line tell it.
  // Kubernetes' own containers (namespace k8s.io, labelled by containerd's CRI plugin) are removed with crictl.
  const criKind = labels['io.cri-containerd.kind'];
  const nerdctlNamespace = labels['nerdctl/namespace'] ?? source.nerdctlNamespace;
  const nerdctl = !podman && (source.nerdctlNamespace !== undefined || Object.keys(labels).some((k) => k.startsWith('nerdctl/')));
  const runtime = podman ? 'podman' : criKind || (nerdctl && nerdctlNamespace === 'k8s.io') ? 'cri' : nerdctl ? 'nerdctl' : 'docker';
  const ips = new Set<string>();
  if (c.NetworkSettings?.IPAddress) ips.add(c.NetworkSettings.IPAddress);
  for (const n of Object.values(c.NetworkSettings?.Networks ?? {})) {
    const ep = obj<{ IPAddress?: unknown; GlobalIPv6Address?: unknown }>(n);
    if (str(ep?.IPAddress)) ips.add(ep!.IPAddress as string);
    if (str(ep?.GlobalIPv6Address)) ips.add(ep!.GlobalIPv6Address as string);
  }
  return {
    id: raw.Id,
    runtime,
    ...(runtime === 'nerdctl' && nerdctlNamespace ? { ctrNamespace: nerdctlNamespace } : {}),
    name,
    pod: labels['io.kubernetes.pod.name'] ?? k8s?.[2],
    podNamespace: labels['io.kubernetes.pod.namespace'] ?? k8s?.[3],
    podUid: labels['io.kubernetes.pod.uid'] ?? k8s?.[4],
    podId: podman ? str(raw.Pod) || undefined : undefined,
    // A podman pod's members join its infra container's namespace (NetworkMode "container:<infra id>").
    isSandbox: podman && raw.IsInfra === true ? true : criKind ? criKind === 'sandbox' : type ? type === 'podsandbox' : labels['io.kubernetes.container.name'] ? labels['io.kubernetes.container.name'] === 'POD' : k8s ? k8s[1] === 'POD' : !sharedNet,
    sandboxOf: labels['io.kubernetes.sandbox.id'] ?? sharedNet,
    state: stateOf(c.State),
    pid: c.State?.Pid || undefined,
    sandboxKey: c.NetworkSettings?.SandboxKey || undefined,
    sandboxId: c.NetworkSettings?.SandboxID || undefined,
    networkMode,
    ips: [...ips].sort(),
    startedAt: dockerTime(c.State?.StartedAt),
    finishedAt: dockerTime(c.State?.FinishedAt),
    error: c.State?.Error || undefined,
    binds: c.Mounts?.length ? c.Mounts.map((m) => ({ source: m.Source, destination: m.Destination })) : undefined,
  };
}

export default defineParser({
  id: 'docker-inspect',
  describe: '`docker inspect`, `podman inspect` and `nerdctl inspect` JSON (arrays, objects, or one object per line as --format \'{{json .}}\' prints): state, pid, SandboxKey, IPs and pod labels of every container, dead ones too',
  collect: 'docker inspect $(docker ps -aq)   (podman: podman inspect $(podman ps -aq); nerdctl: nerdctl [-n NS] inspect $(nerdctl [-n NS] ps -aq))',
  recognise: {
    // `-f '{{.State.Pid}}'` prints a template, not JSON; `-f '{{json .}}'` is JSON again. nerdctl may take global
    // options first (`nerdctl -n k8s.io inspect`).
    command: new RegExp(String.raw`^${CONTAINER_CLI}\s+(?:container\s+)?inspect\b(?!.*\s(?:-f|--format)[\s=](?!['"]?\{\{\s*json\s+\.\s*\}\}))`),
    sniff: (h) => /^\s*[[{]/.test(h) && /"Id"\s*:\s*"[0-9a-f]{64}"/.test(h) && /"(State|NetworkSettings|Config)"\s*:/.test(h),
  },
  open(ctx) {
    const source: InspectSource = { nerdctlNamespace: nerdctlCommand(ctx.command?.inner ?? '')?.namespace };
    return wholeText(ctx, (text, firstLine) => {
      // One array (docker inspect a b c), several (one command per container), or one object per line
      // (docker inspect --format '{{json .}}'): every document is read, not just the first.
      const lines = text.split('\n');
      const idLine = new Map<string, number>();
      lines.forEach((l, i) => {
        for (const m of l.matchAll(/"Id"\s*:\s*"([0-9a-f]{64})"/g)) if (!idLine.has(m[1])) idLine.set(m[1], firstLine + i);
      });
      const visit = (item: unknown) => {
        if (!item || typeof item !== 'object') return;
        const c = containerFromInspect(item as Inspect, source);
        if (!c) return ctx.warn(firstLine, 'docker inspect item without a valid Id; skipped');
        const line = idLine.get(c.id) ?? firstLine;
        ctx.emit({ kind: 'container', container: c, ev: ctx.evidence(line, `"Id": "${c.id}" (${c.name ?? 'no name'}, state ${c.state}${c.sandboxKey ? `, SandboxKey ${c.sandboxKey}` : ''})`) });
      };
      let whole: unknown;
      try {
        whole = JSON.parse(text); // one document, the usual case: parsed natively, not scanned for its end
      } catch {
        return eachJsonItem(text, firstLine, 'docker inspect', ctx.warn, visit);
      }
      for (const item of Array.isArray(whole) ? whole : [whole]) visit(item);
    });
  },
});
