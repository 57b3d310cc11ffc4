import { defineParser } from '../src/recognise/parser.js';

const KEEP = new Set(['Id', 'MainPID', 'ExecMainPID', 'ExecMainStartTimestamp', 'ActiveEnterTimestamp', 'MountFlags', 'PrivateTmp', 'PrivateMounts', 'NRestarts', 'ActiveState', 'SubState', 'FragmentPath', 'DropInPaths']);

/** `systemctl show docker`: Key=Value properties (main pid, start time, MountFlags). */
export default defineParser({
  id: 'systemctl-show',
  describe: '`systemctl show docker`: MainPID, ExecMainStartTimestamp, MountFlags',
  collect: 'systemctl show docker',
  recognise: {
    command: /^systemctl\s+show\b/,
    sniff: (h) => /^(Type|Restart|Id|Names)=\S/m.test(h) && /^MainPID=\d+$/m.test(h),
  },
  open(ctx) {
    const cmdUnit = /^systemctl\s+show\s+(?:-\S+\s+)*([\w@.-]+)/.exec(ctx.command?.inner ?? '')?.[1];
    let unit = cmdUnit ? (cmdUnit.includes('.') ? cmdUnit : `${cmdUnit}.service`) : 'unknown.service';
    const props: { key: string; value: string; no: number; text: string }[] = [];
    return {
      line(text, no) {
        const eq = text.indexOf('=');
        if (eq <= 0) return;
        const key = text.slice(0, eq);
        if (!KEEP.has(key)) return;
        const value = text.slice(eq + 1).trim();
        if (key === 'Id' && value) unit = value; // Id comes late in the output: name the unit at the end
        props.push({ key, value, no, text });
      },
      end() {
        for (const p of props) ctx.emit({ kind: 'unitProperty', unit, key: p.key, value: p.value, ev: ctx.evidence(p.no, p.text) });
      },
    };
  },
});
