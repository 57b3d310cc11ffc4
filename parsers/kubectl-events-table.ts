import { defineParser } from '../src/recognise/parser.js';
import { cellOf, type Columns, columnsOf } from '../src/recognise/table.js';
import { agedEvents, humanDuration } from './kubectl-describe-pod.js';
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
    let cols: Columns | undefined;
    const aged = agedEvents(ctx);
    return {
      line(text, no) {
        if (HEADER.test(text)) {
          cols = columnsOf(text); // a header of two words ("LAST SEEN") is one column
          return;
        }
        if (!cols || !text.trim()) return;
        const cell = (name: string) => cellOf(cols!, text, name);
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
        const firstSeen = cell('FIRST SEEN');
        const node = source ? /^kubelet,\s*(\S+)/.exec(source)?.[1] : undefined;
        aged.emit({
          said: s,
          where: node ? { node } : { nodeUnknown: true },
          last,
          first: firstSeen !== undefined ? humanDuration(firstSeen) : last,
          count: Number(cell('COUNT')) || 1,
          pod,
          namespace: cell('NAMESPACE') ?? ns,
          message,
          ev: ctx.evidence(no, text),
          no,
        });
      },
      end() {
        aged.end();
      },
    };
  },
});
