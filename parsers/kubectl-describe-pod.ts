import type { Evidence, Fact } from '../src/model/facts.js';
import { defineParser, type ParseContext } from '../src/recognise/parser.js';
import { cellOf, type Columns, columnsOf } from '../src/recognise/table.js';
import { sandboxEventIn } from './kubelet-log.js';

// `kubectl describe pod`: what most bug reports paste. Its header names the pod and its node, and its Events table holds
// kubelet's events about the pod's sandboxes, the same strings as kubelet's log (see kubectl-events), at their age when
// the command ran:
//   Name:         coredns-699f8ddd77-r58wz
//   Namespace:    kube-system
//   Node:         worker-0/10.240.0.20
//   …
//   Events:
//     Type     Reason                  Age                 From               Message
//     ----     ------                  ----                ----               -------
//     Warning  FailedCreatePodSandBox  101s                kubelet            Failed to create pod sandbox: rpc error: …
//     Normal   SandboxChanged          11s (x8 over 100s)  kubelet            Pod sandbox changed, it will be killed and re-created.
// kubectl aligns the cells under the header (Age and From may hold spaces: "2m (x14 over 30m)", "kubelet, worker-0"
// before kubectl 1.20 or so), so they are cut at the header's offsets. Ages count back from the bundle's collection
// time, which is not exactly when the command ran: such times are inferred (marked on the timeline).
const NAME = /^\s{0,2}Name:\s+(\S+)\s*$/;
const NAMESPACE = /^\s{0,2}Namespace:\s+(\S+)\s*$/;
const NODE = /^\s{0,2}Node:\s+(\S+)\s*$/;
const EVENTS_HEADER = /^\s*Type\s+Reason\s+Age\s+From\s+Message\s*$/;
/** A human duration as kubectl prints ages (apimachinery's HumanDuration): 45s, 3m2s, 5h10m, 7d18h, 2y30d. */
const DURATION = /^(?=\d)(?:(\d+)y)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const AGE = /^(\S+)(?:\s+\(x(\d+) over (\S+)\))?$/;

/** Milliseconds of a human duration, or undefined ("<unknown>", "<invalid>"). */
export function humanDuration(s: string): number | undefined {
  const m = DURATION.exec(s);
  if (!m) return undefined;
  const [y, d, h, min, sec] = m.slice(1).map((x) => Number(x ?? 0));
  return ((((y * 365 + d) * 24 + h) * 60 + min) * 60 + sec) * 1000;
}

/** One of kubelet's events in a kubectl table (describe's Events, get events): what it says, where, and its ages. */
export interface AgedEvent {
  said: NonNullable<ReturnType<typeof sandboxEventIn>>;
  where: { node: string } | { nodeUnknown: true };
  /** Ages before the collection of its last and first occurrence (ms; undefined when not a duration), and its count. */
  last: number | undefined;
  first: number | undefined;
  count: number;
  pod?: string;
  namespace?: string;
  message: string;
  ev: Evidence;
  no: number;
}

/**
 * Emits kubelet's sandbox events of a kubectl table at their ages before the collection: a repeated one at its first
 * and its last, with its count (as kubectl-events does). An age that is not a duration (<unknown>) is counted, and
 * said once at the end, not placed at a made-up time.
 */
export function agedEvents(ctx: ParseContext): { emit(e: AgedEvent): void; end(): void } {
  let unread = 0;
  let firstUnread = 0;
  return {
    emit(e) {
      if (e.last === undefined || e.first === undefined) {
        if (!unread++) firstUnread = e.no;
        return;
      }
      const ages = e.first === e.last ? [e.last] : [e.first, e.last];
      ages.forEach((ms, i) =>
        ctx.emit({
          kind: 'sandboxEvent',
          daemon: 'kubelet',
          ...e.said,
          ...e.where,
          // The first time stands for all but the last, and the count is always told.
          times: i === 0 ? Math.max(1, e.count - ages.length + 1) : 1,
          pod: e.said.pod ?? e.pod,
          podNamespace: e.said.podNamespace ?? e.namespace,
          message: e.message.length > 400 ? `${e.message.slice(0, 400)}…` : e.message,
          at: { kind: 'ago', ms },
          ev: e.ev,
        } satisfies Fact),
      );
    },
    end() {
      if (unread) ctx.warn(firstUnread, `${unread} event${unread > 1 ? 's' : ''} with an age that is not a duration (<unknown>, <invalid>): left out`);
    },
  };
}

export default defineParser({
  id: 'kubectl-describe-pod',
  describe: '`kubectl describe pod`: kubelet\'s events about the pod\'s sandboxes (failed setup, failed teardown) from its Events table, for the node its header names; times from their age, counted back from the collection',
  collect: 'kubectl describe pod -A (or -n NAMESPACE POD)',
  recognise: {
    command: /^kubectl\s+(?:\S+\s+)*?describe\s+(?:pods?|po)\b/,
    sniff: (h) => {
      const lines = h.split('\n', 40);
      return NAME.test(lines.find((l) => l.trim()) ?? '') && lines.some((l) => NAMESPACE.test(l)) && lines.some((l) => NODE.test(l));
    },
  },
  open(ctx) {
    let pod: string | undefined;
    let namespace: string | undefined;
    let node: string | undefined;
    let cols: Columns | undefined; // Type, Reason, Age, From and Message
    const aged = agedEvents(ctx);
    return {
      line(text, no) {
        if (EVENTS_HEADER.test(text)) {
          cols = columnsOf(text);
          return;
        }
        if (cols) {
          if (!text.trim() || /^\s*-{4}\s+-{6}/.test(text)) {
            if (!text.trim()) cols = undefined; // the table ends at a blank line (the next pod follows)
            return;
          }
          // A row, unless the cells do not line up under the header (a paste that squeezed the spaces): then by runs of spaces.
          const aligned = cols.at.every((at, k) => k === 0 || text[at - 1] === ' ');
          const cells = aligned ? cols.names.map((name) => cellOf(cols!, text, name)!) : text.trim().split(/\s{2,}/);
          if (cells.length < 5 || !/^(?:Normal|Warning)$/.test(cells[0])) {
            cols = undefined; // past the table
            return this.line(text, no);
          }
          const [, reason, age, from] = cells;
          const message = cells.slice(4).join('  ').replace(/^\(combined from similar events\): /, '');
          if (!/^kubelet\b/.test(from)) return;
          const s = sandboxEventIn(message);
          if (!s) return;
          // The node: the header's, else the one an older kubectl wrote beside kubelet ("kubelet, worker-0").
          const where = node ?? /^kubelet,\s*(\S+)/.exec(from)?.[1];
          if (!where) return;
          const a = AGE.exec(age);
          const last = a ? humanDuration(a[1]) : undefined;
          aged.emit({
            said: s,
            where: { node: where },
            last,
            first: a?.[3] ? humanDuration(a[3]) : last,
            count: a?.[2] ? Number(a[2]) : 1,
            pod,
            namespace,
            message,
            ev: ctx.evidence(no, `${reason} ${namespace ? `${namespace}/` : ''}${pod ?? '?'} on ${where}, ${age} before the collection: ${message}`),
            no,
          });
          return;
        }
        const name = NAME.exec(text);
        if (name) {
          // A new pod (describe lists several): its own namespace and node follow.
          [pod, namespace, node] = [name[1], undefined, undefined];
          return;
        }
        namespace ??= NAMESPACE.exec(text)?.[1];
        const n = NODE.exec(text)?.[1];
        if (n) node = n === '<none>' ? undefined : n.split('/')[0];
      },
      end() {
        aged.end();
      },
    };
  },
});
