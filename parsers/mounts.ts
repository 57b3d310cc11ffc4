import { normalisePath } from '../src/model/facts.js';
import { defineParser, mountReader } from '../src/recognise/parser.js';

// /proc/mounts (fstab format: "nsfs /run/netns/cni-x nsfs rw 0 0") and `mount` ("nsfs on /run/netns/cni-x type nsfs (rw)"):
// the mount table of the reader's mount namespace (the host's, for a sosreport or a host shell). No inode is shown, so a
// netns is known by its path here; kernels before 3.19 show the bind mount as type "proc".
const FSTAB = /^(\S+) (\S+) (nsfs|proc) \S+ \d+ \d+$/;
const MOUNT = /^(\S+) on (\S+) type (nsfs|proc) \(/;
const NETNS_DIR = /\/(?:run\/netns|run\/docker\/netns|netns)\//;

const unescape = (p: string) => p.replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export default defineParser({
  id: 'mounts',
  describe: '/proc/mounts or `mount` output: netns bind mounts (nsfs, or proc before 3.19) in the host\'s mount namespace, by path',
  collect: 'cat /proc/mounts',
  recognise: {
    path: /(?:^|\/)proc\/(?:self\/|1\/)?mounts$/,
    command: /^(?:mount|cat\s+\/proc\/(?:self\/|1\/)?mounts)\s*$/,
  },
  open(ctx) {
    return {
      line(text, no) {
        const m = FSTAB.exec(text) ?? MOUNT.exec(text);
        if (!m) return;
        const path = normalisePath(unescape(m[2]));
        if (!NETNS_DIR.test(path)) return; // /proc itself; nsfs mounts of other namespace types (snapd's mnt namespaces)
        ctx.emit({ kind: 'nsMount', pid: mountReader(ctx), path, ns: m[3] === 'nsfs' ? 'net' : 'unknown', fstype: m[3], propagation: '', ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
