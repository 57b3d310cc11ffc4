import type { ContainerRecord, ContainerState } from '../src/model/facts.js';
import { CONTAINER_CLI, nerdctlCommand } from '../src/recognise/command.js';
import { defineParser } from '../src/recognise/parser.js';

// `docker ps -a`: a tabwriter table (old CLI: min width 20 + 3 padding; newer: 3-space gaps). STATUS holds spaces and
// PORTS/NAMES may be empty, so cells are cut at the header's column offsets, not split on whitespace.
//   CONTAINER ID        IMAGE          COMMAND     CREATED       STATUS                PORTS     NAMES
//   1cefb7aab14d        …pause:3.0     "/pause"    5 days ago    Dead
const HEADER = /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\s*$/;
// podman ps adds Initialized, Stopping and Stopped (a container stopped before it exited, or one of a stopped pod);
// nerdctl ps prints "Up" without a duration, and containerd's Pausing and Unknown.
const STATUS = /^(Up|Up .*|Exited \(-?\d+\).*|Created|Dead|Removal In Progress|Restarting \(-?\d+\).*|Paused|Initialized|Stopping|Stopped|Pausing|Unknown)$/;
// kubelet's dockershim names: k8s_POD_<pod>_<ns>_<uid>_<attempt> (the sandbox) and k8s_<container>_<pod>_<ns>_<uid>_<attempt>.
const K8S_NAME = /^k8s_([^_]+)_([^_]+)_([^_]+)_([0-9a-f-]+)_\d+$/;
// nerdctl's names for Kubernetes' containers (namespace k8s.io): k8s://<ns>/<pod> (the sandbox), k8s://<ns>/<pod>/<container>.
const NERDCTL_K8S_NAME = /^k8s:\/\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/;

export function stateOf(status: string): ContainerState {
  if (/^Up .*\(Paused\)/.test(status)) return 'paused';
  if (status === 'Up' || status.startsWith('Up ') || status === 'Pausing') return 'running';
  if (status.startsWith('Exited')) return 'exited';
  if (status === 'Created') return 'created';
  if (status === 'Dead') return 'dead';
  if (status === 'Removal In Progress') return 'removing';
  if (status.startsWith('Restarting')) return 'restarting';
  if (status === 'Initialized') return 'created';
  if (status === 'Stopping') return 'running';
  if (status === 'Stopped') return 'exited';
  return 'unknown';
}

export default defineParser({
  id: 'docker-ps',
  describe: '`docker ps -a` (and `podman ps -a`, `nerdctl ps -a`) table (old and new column widths): container states such as Dead and Removal In Progress, k8s pod names',
  collect: 'docker ps -a --no-trunc',
  recognise: {
    command: new RegExp(String.raw`^${CONTAINER_CLI}\s+(?:ps|container\s+(?:ls|list|ps))\b`),
    sniff: (h) => HEADER.test(h.split('\n')[0]),
  },
  open(ctx) {
    // podman ps and nerdctl ps print docker's table: only the command line tells whose it is. In nerdctl's namespace
    // k8s.io the containers are Kubernetes' (containerd's CRI plugin): crictl removes them.
    const nerdctl = nerdctlCommand(ctx.command?.inner ?? '');
    const runtime = /^podman\b/.test(ctx.command?.inner ?? '') ? 'podman' : nerdctl ? (nerdctl.namespace === 'k8s.io' ? 'cri' : 'nerdctl') : 'docker';
    let cols: number[] | undefined;
    return {
      line(text, no) {
        if (HEADER.test(text)) {
          cols = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'].map((h) => text.indexOf(h));
          return;
        }
        if (!cols) return;
        if (text.length > 4096) return ctx.warn(no, 'table row longer than 4 KiB; skipped');
        const id = /^([0-9a-f]{12,64})\s/.exec(text)?.[1];
        if (!id) return;
        const cell = (i: number) => text.slice(cols![i], i + 1 < cols!.length ? cols![i + 1] : undefined).trim();
        let status = cell(4);
        let after = text.slice(cols[5] >= 0 ? cols[5] : text.length);
        const aligned = STATUS.test(status);
        if (!aligned) {
          // A cell wider than its header (a row pasted under another run's header): find the status by its words.
          const m = /\s{2}(Up(?: \S+(?: \S+)*?(?: \([^)]*\))?)?|Exited \(-?\d+\) \S+(?: \S+)*? ago|Created|Dead|Removal In Progress|Restarting \(-?\d+\) \S+(?: \S+)*? ago|Initialized|Stopping|Stopped|Pausing|Unknown)(?=\s{2}|\s*$)/.exec(text);
          if (!m) return ctx.warn(no, 'docker ps row without a recognisable STATUS; skipped');
          status = m[1];
          after = text.slice(m.index + m[0].length);
        }
        // NAMES is the last column and holds no spaces; PORTS ("0.0.0.0:80->80/tcp") may sit between.
        const cellName = cell(6);
        const last = after.trim().split(/\s+/).pop() ?? '';
        const names = (aligned && /^\S+$/.test(cellName) && !/->|\/(?:tcp|udp|sctp)\b/.test(cellName) ? cellName : !/->|\/(?:tcp|udp|sctp)\b/.test(last) ? last : '').split(',')[0] || undefined;
        const k8s = names ? K8S_NAME.exec(names) : null;
        const viaNerdctl = names ? NERDCTL_K8S_NAME.exec(names) : null;
        const isSandbox = k8s ? k8s[1] === 'POD' : viaNerdctl ? viaNerdctl[3] === undefined : /"\/pause"/.test(cell(2));
        const record: ContainerRecord = {
          id,
          runtime,
          ...(runtime === 'nerdctl' ? { ctrNamespace: nerdctl!.namespace } : {}),
          name: names,
          pod: k8s?.[2] ?? viaNerdctl?.[2],
          podNamespace: k8s?.[3] ?? viaNerdctl?.[1],
          podUid: k8s?.[4],
          isSandbox,
          state: stateOf(status),
          ips: [],
          fromTable: true,
        };
        ctx.emit({ kind: 'container', container: record, ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
