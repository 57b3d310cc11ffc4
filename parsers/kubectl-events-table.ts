import type { Fact } from '../src/model/facts.js';
import { defineParser } from '../src/recognise/parser.js';
import { humanDuration } from './kubectl-describe-pod.js';
import { sandboxEventIn } from './kubelet-log.js';

// `kubectl get events` as the table it prints by default (-A adds NAMESPACE; `kubectl events` prints the same), which
// bug reports paste more often than its JSON:
//   NAMESPACE     LAST SEEN   TYPE      REASON          OBJECT                                          MESSAGE
//   kube-system   4s          Warning   FailedKillPod   pod/calico-kube-controllers-5c5b57ffb5-2hxs5    error killing pod: …
// -o wide adds SUBOBJECT, SOURCE ("kubelet, worker-2"), FIRST SEEN, COUNT and NAME, MESSAGE then in the middle; kubectl
// before 1.14 printed LAST SEEN, FIRST SEEN, COUNT, NAME, KIND, SUBOBJECT, TYPE, REASON, SOURCE, MESSAGE. Cells are cut
// at the header's offsets. kubelet's events about sandboxes are read as kubectl-events reads them, at their age before
// the collection. Without SOURCE the table does not say which node an event is about: such an event is this host's only
// if it names one of this host's sandboxes (build.ts decides, once the host's sandboxes are known).
const HEADER = /^(?:NAMESPACE\s+)?LAST SEEN\s+.*\bREASON\b.*\bMESSAGE\b/;

export default defineParser({
  id: 'kubectl-events-table',
  describe: '`kubectl get events` (or `kubectl events`) as a table, -A and -o wide too: kubelet\'s events about pod sandboxes, at their age; for the node SOURCE names, or else only those naming a sandbox of this host',
  collect: 'kubectl get events -A -o wide',
  recognise: {
    command: /^kubectl\s+(?:\S+\s+)*?(?:get\s+(?:events?|ev)\b|events\b)/,
    sniff: (h) => HEADER.test(h.split('\n', 1)[0]),
  },
  open(ctx) {
    const ns = /\s(?:-n|--namespace)[ =](\S+)/.exec(` ${ctx.command?.inner ?? ''}`)?.[1];
    let cols: { name: string; at: number }[] | undefined;
    let unreadAges = 0;
    let firstUnread = 0;
    return {
      line(text, no) {
        if (HEADER.test(text)) {
          // Columns are 3 spaces apart at least; a header of two words ("LAST SEEN") has one.
          cols = [...text.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index }));
          return;
        }
        if (!cols || !text.trim()) return;
        const cell = (name: string) => {
          const i = cols!.findIndex((c) => c.name === name);
          return i < 0 ? undefined : text.slice(cols![i].at, cols![i + 1]?.at).trim();
        };
        const object = cell('OBJECT'); // pod/<name>
        const kind = cell('KIND');
        const pod = object ? /^pods?\/(\S+)$/.exec(object)?.[1] : kind === 'Pod' ? cell('NAME')?.replace(/\.[0-9a-f]+$/, '') : undefined;
        const message = cell('MESSAGE')?.replace(/^\(combined from similar events\): /, '');
        if (!pod || !message) return;
        const source = cell('SOURCE');
        if (source && !/^kubelet\b/.test(source)) return;
        const s = sandboxEventIn(message);
        if (!s) return;
        const last = humanDuration(cell('LAST SEEN') ?? '');
        const first = cell('FIRST SEEN') !== undefined ? humanDuration(cell('FIRST SEEN')!) : last;
        const count = Number(cell('COUNT')) || 1;
        if (last === undefined || first === undefined) {
          if (!unreadAges++) firstUnread = no;
          return;
        }
        const node = source ? /^kubelet,\s*(\S+)/.exec(source)?.[1] : undefined;
        const namespace = cell('NAMESPACE') ?? ns;
        const ages = first === last ? [last] : [first, last];
        ages.forEach((ms, i) =>
          ctx.emit({
            kind: 'sandboxEvent',
            daemon: 'kubelet',
            ...s,
            ...(node ? { node } : { nodeUnknown: true }),
            times: i === 0 ? Math.max(1, count - ages.length + 1) : 1,
            pod: s.pod ?? pod,
            podNamespace: s.podNamespace ?? namespace,
            message: message.length > 400 ? `${message.slice(0, 400)}…` : message,
            at: { kind: 'ago', ms },
            ev: ctx.evidence(no, text),
          } satisfies Fact),
        );
      },
      end() {
        if (unreadAges) ctx.warn(firstUnread, `${unreadAges} event${unreadAges > 1 ? 's' : ''} with an age that is not a duration (<unknown>, <invalid>): left out`);
      },
    };
  },
});
