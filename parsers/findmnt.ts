import { normalisePath } from '../src/model/facts.js';
import { defineParser, mountReader } from '../src/recognise/parser.js';

// `findmnt -t nsfs` (util-linux): "TARGET SOURCE FSTYPE OPTIONS", a network namespace's bind mount as
//   /run/netns/cni-1aff84c7 nsfs[net:[4026531840]] nsfs rw
// Unlike /proc/mounts it names the namespace by its inode. Without -l, a tree ("├─", "└─", "│") may lead the target.
// The mount table is the reader's: the host's from a host shell, or the one `nsenter -t PID -m` entered.
const HEADER = /^TARGET\s+SOURCE\s+FSTYPE\s+OPTIONS\s*$/;
const ROW = /^[\s│├└─|`-]*(\/\S*)\s+nsfs\[net:\[(\d+)\]\]\s+nsfs\s+\S+/;

const unescape = (p: string) => p.replace(/\\x([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

export default defineParser({
  id: 'findmnt',
  describe: '`findmnt -t nsfs`: bind-mounted namespaces in the reader\'s mount namespace, each network namespace by its inode',
  collect: 'findmnt -t nsfs',
  recognise: {
    command: /^findmnt\b/,
    sniff: (h) => HEADER.test(h.split('\n')[0]) && /nsfs\[/.test(h),
  },
  open(ctx) {
    const reader = mountReader(ctx);
    return {
      line(text, no) {
        const m = ROW.exec(text);
        if (!m) return;
        ctx.emit({ kind: 'nsMount', pid: reader, path: normalisePath(unescape(m[1])), ns: 'net', inode: m[2], fstype: 'nsfs', propagation: '', ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
