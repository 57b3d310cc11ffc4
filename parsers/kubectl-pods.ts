import { defineParser } from '../src/recognise/parser.js';
import { cellOf, type Columns, columnsOf } from '../src/recognise/table.js';

// `kubectl get pods -o wide` (-A adds NAMESPACE first): the API server's view of which pod has which IP on which node.
//   NAMESPACE   NAME                         READY   STATUS      RESTARTS      AGE   IP            NODE        NOMINATED NODE   READINESS GATES
//   demo        webserver-1815263422-q3xkz   1/1     Running     2 (3h ago)    5d    10.2.1.15     10.2.1.6    <none>           <none>
// kubectl aligns every cell under its header (RESTARTS may hold spaces), so cells are cut at the header's offsets.
const HEADER = /^(?:NAMESPACE\s+)?NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\b/;
const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)$/;
// A pod whose phase is over (or whose node is gone) keeps its IP in its status, though the address was released.
const DONE = /^(?:Completed|Succeeded|Failed|Evicted|ContainerStatusUnknown|Shutdown|NodeShutdown|NodeLost|Terminated|OutOf\w+|NodeAffinity)$/;

export default defineParser({
  id: 'kubectl-pods',
  describe: '`kubectl get pods -o wide` (with or without -A): the API server\'s pod, IP, node and status; host-network pods (sharing their node\'s IP) are left out',
  collect: 'kubectl get pods -A -o wide',
  recognise: {
    command: /^kubectl\s+get\s+(?:pods?|po)\b/,
    sniff: (h) => HEADER.test(h.split('\n')[0]),
  },
  open(ctx) {
    // `-n NS` without -A: the namespace is the command's.
    const ns = /\s(?:-n|--namespace)[ =](\S+)/.exec(` ${ctx.command?.inner ?? ''}`)?.[1];
    let cols: Columns | undefined;
    const rows: { pod: string; podNamespace?: string; ip: string; node?: string; status: string; no: number; text: string }[] = [];
    return {
      line(text, no) {
        if (HEADER.test(text)) {
          cols = columnsOf(text); // a header of two words ("NOMINATED NODE") is one column
          return;
        }
        if (!cols || !text.trim()) return;
        if (text.length > 4096) return ctx.warn(no, 'table row longer than 4 KiB; skipped');
        const cell = (name: string) => cellOf(cols!, text, name);
        const pod = cell('NAME');
        const ip = cell('IP');
        const status = cell('STATUS');
        if (!pod || !status || !ip || !IP.test(ip)) return;
        const node = cell('NODE');
        rows.push({ pod, podNamespace: cell('NAMESPACE') || ns, ip, node: node && node !== '<none>' ? node : undefined, status, no, text });
      },
      end() {
        // A host-network pod shows its node's IP, as do the other host-network pods of that node: not a pod IP.
        const perNode = new Map<string, number>();
        for (const r of rows) if (!DONE.test(r.status)) perNode.set(`${r.node}\0${r.ip}`, (perNode.get(`${r.node}\0${r.ip}`) ?? 0) + 1);
        for (const r of rows) {
          if ((perNode.get(`${r.node}\0${r.ip}`) ?? 0) > 1) continue;
          ctx.emit({ kind: 'podIp', pod: r.pod, podNamespace: r.podNamespace, ip: r.ip, node: r.node, status: r.status, holds: !DONE.test(r.status), ev: ctx.evidence(r.no, r.text) });
        }
      },
    };
  },
});
