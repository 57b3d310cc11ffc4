import { defineParser } from '../src/recognise/parser.js';

// `ip netns list`: the names under /run/netns, with "(id: N)" when the namespace has an nsid in the viewer's namespace.
// `ip netns list-id`: "nsid N (iproute2 netns name: NAME)", or "nsid N " for a namespace with no name (docker's, a leak's).
const LIST = /^([\w.:@-]+)(?: \(id: (\d+)\))?\s*$/;
const LIST_ID = /^nsid (\d+)\s*(?:\(iproute2 netns name: ([^)]+)\))?\s*$/;

export default defineParser({
  id: 'ip-netns',
  describe: '`ip netns list` and `ip netns list-id`: named namespaces under /run/netns and their nsids',
  collect: 'ip netns list; ip netns list-id',
  recognise: { command: /^ip\s+(?:-\w+\s+)*netns(?:\s+(?:list|ls|show|list-id))?\s*$/, sniff: (h) => /^nsid \d+ (?:\(iproute2 netns name: [^)]+\))?\s*$/.test(h.split('\n')[0]) },
  open(ctx) {
    const listId = /list-id/.test(ctx.command?.inner ?? '');
    return {
      line(text, no) {
        const byId = LIST_ID.exec(text);
        if (byId) {
          if (byId[2]) ctx.emit({ kind: 'netnsName', name: byId[2].trim(), nsid: Number(byId[1]), ev: ctx.evidence(no, text) });
          return;
        }
        if (listId) return;
        const m = LIST.exec(text.trim());
        if (m) ctx.emit({ kind: 'netnsName', name: m[1], nsid: m[2] ? Number(m[2]) : undefined, ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
