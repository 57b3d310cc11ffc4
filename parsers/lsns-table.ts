import { lsnsRow } from './lsns-json.js';
import { defineParser } from '../src/recognise/parser.js';

// `lsns -t net` as a table (util-linux): "NS TYPE NPROCS PID USER NETNSID NSFS COMMAND", any of them with -o.
//   4026532773 net       1 20633 root           0 /run/netns/cni-3276e31b ceph-mon --fsid=7d2a
// Cells may be empty (NSFS when not mounted; PID and USER for a namespace only a mount holds, lsns ≥ 2.39), so a
// cell is the word that lies under its header: numbers are right-aligned, text left-aligned, and each column is as
// wide as its widest cell. The command takes the rest of the line.
const HEADER = /^\s*NS\s+TYPE\b.*\bPID\b/;

interface Column {
  name: string;
  start: number;
  end: number;
}

export default defineParser({
  id: 'lsns-table',
  describe: '`lsns -t net` (the table): each network namespace, a process in it (PID) and where it is bind-mounted (NSFS)',
  collect: 'lsns -t net',
  recognise: {
    command: /^lsns\b(?!.*(?:\s-\w*J\w*\b|--json))/,
    sniff: (h) => HEADER.test(h.split('\n')[0]),
  },
  open(ctx) {
    let cols: Column[] | undefined;
    return {
      line(text, no) {
        if (HEADER.test(text)) {
          cols = [...text.matchAll(/\S+/g)].map((m) => ({ name: m[0], start: m.index, end: m.index + m[0].length }));
          return;
        }
        if (!cols || !text.trim()) return;
        const words = [...text.matchAll(/\S+/g)].map((m) => ({ word: m[0], start: m.index, end: m.index + m[0].length }));
        const cell = (name: string): string | undefined => {
          const i = cols!.findIndex((c) => c.name === name);
          if (i < 0) return undefined;
          const c = cols![i];
          if (i === cols!.length - 1) return text.slice(c.start).trim() || undefined; // text, left-aligned: it starts under its header
          return words.find((w) => w.start < c.end && w.end > c.start)?.word;
        };
        const inode = cell('NS');
        if (!inode || !/^\d+$/.test(inode) || (cell('TYPE') ?? 'net') !== 'net') return;
        const pid = Number(cell('PID'));
        const command = cols[cols.length - 1].name === 'COMMAND' ? cell('COMMAND') : undefined;
        lsnsRow(ctx, { inode, pid: Number.isInteger(pid) && cell('NPROCS') !== '0' ? pid : undefined, command: command ? { args: command } : undefined, nsfs: [cell('NSFS') ?? ''] }, ctx.evidence(no, text));
      },
      end() {},
    };
  },
});
