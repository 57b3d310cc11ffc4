import { defineParser } from '../src/recognise/parser.js';

// State a CNI plugin keeps per container until DEL removes it:
//   flannel: /var/lib/cni/flannel/<containerID>  (the delegate netconf; consumeScratchNetConf removes it on DEL)
//   multus:  /var/lib/cni/multus/<containerID>   (saveDelegates; removed on DEL). Newer multus keeps results/<id>… too: not these.
const PATH = /(?:^|\/)var\/lib\/cni\/(flannel|multus)\/([0-9a-f]{12,64})$/;

export default defineParser({
  id: 'cni-leftover',
  describe: 'flannel (/var/lib/cni/flannel/<id>) and multus (/var/lib/cni/multus/<id>) per-container state, which only a successful DEL removes',
  collect: 'ls -l /var/lib/cni/flannel /var/lib/cni/multus; or copy both folders',
  recognise: { path: PATH, head: (h) => h === '' || /^\s*[[{]/.test(h) },
  open(ctx) {
    const m = PATH.exec(ctx.path);
    let first: { text: string; no: number } | undefined;
    return {
      line(text, no) {
        first ??= { text, no };
      },
      end() {
        if (!m) return;
        const network = /"name"\s*:\s*"([^"]+)"/.exec(first?.text ?? '')?.[1];
        const shown = first ? (first.text.length > 200 ? `${first.text.slice(0, 200)}…` : first.text) : '(empty)';
        ctx.emit({ kind: 'cniLeftover', via: m[1] as 'flannel' | 'multus', containerId: m[2], network, ev: ctx.evidence(first?.no ?? 1, `${ctx.path}: ${shown}`) });
      },
    };
  },
});
