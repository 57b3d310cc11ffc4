import { defineParser } from '../src/recognise/parser.js';

// <dataDir>/<network>/<ip>: "<container id>" or, since plugins v0.8.0, "<container id>\r\n<ifname>" (no newline at the end).
const IP_FILE = /(?:^|\/)var\/lib\/cni\/networks\/([^/]+)\/([0-9a-fA-F.:_]+)$/;
// The rest of the store: the allocator's cursor (last_reserved_ip[.N]) and the lock file; read, nothing to say.
const STORE_FILE = /(?:^|\/)var\/lib\/cni\/networks\/[^/]+\/(?:[0-9a-fA-F.:_]+|last_reserved_ip(?:\.\d+)?|lock)$/;

export default defineParser({
  id: 'cni-host-local',
  describe: 'host-local IPAM reservations /var/lib/cni/networks/<net>/<ip>: which container an IP is still reserved for',
  collect: 'grep -r . /var/lib/cni/networks/   (or copy the folder)',
  recognise: { path: STORE_FILE, head: (h) => h === '' || /^\s*[^\s/]{2,}\s*(?:\r?\n[\w.@-]*\s*)?$/.test(h) },
  open(ctx) {
    const m = IP_FILE.exec(ctx.path);
    const lines: { text: string; no: number }[] = [];
    return {
      line(text, no) {
        if (lines.length < 2) lines.push({ text, no });
      },
      end() {
        const id = lines[0]?.text.trim();
        if (!m || !id) return;
        const ip = m[2].replace(/_/g, ':'); // Windows escapes ':' as '_'
        ctx.emit({ kind: 'ipReservation', via: 'host-local', network: m[1], containerId: id, ip, ifname: lines[1]?.text.trim() || undefined, ev: ctx.evidence(lines[0].no, `${ctx.path}: ${id}${lines[1]?.text.trim() ? ` ${lines[1].text.trim()}` : ''}`) });
      },
    };
  },
});
