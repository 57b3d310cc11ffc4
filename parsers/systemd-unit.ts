import { defineParser } from '../src/recognise/parser.js';

const UNIT_PATH = /(?:^|\/)(?:usr\/lib|lib|etc|run)\/systemd\/system\/([^/]+\.service)(?:\.d\/[^/]+\.conf)?$/;
const CAT_HEADER = /^# (\/\S+\/([^/\s]+\.service)(?:\.d\/[^/\s]+\.conf)?)\s*$/;

/** Unit files and drop-ins, or `systemctl cat docker`, which prints each file after a "# /path" line. */
export default defineParser({
  id: 'systemd-unit',
  describe: 'systemd unit files and drop-ins ({lib,usr/lib,etc}/systemd/system/docker.service[.d/*.conf]) or `systemctl cat docker`',
  collect: 'systemctl cat docker',
  recognise: {
    path: UNIT_PATH,
    command: /^systemctl\s+cat\b/,
    sniff: (h) => CAT_HEADER.test(h.split('\n')[0]) || /^\[(Unit|Service)\]\s*$/m.test(h.split('\n').slice(0, 5).join('\n')),
  },
  open(ctx) {
    const fromPath = UNIT_PATH.exec(ctx.path);
    const cmdUnit = /^systemctl\s+cat\s+([\w@.-]+)/.exec(ctx.command?.inner ?? '')?.[1];
    let unit = fromPath?.[1] ?? (cmdUnit ? (cmdUnit.includes('.') ? cmdUnit : `${cmdUnit}.service`) : 'unknown.service');
    let section = '';
    return {
      line(text, no) {
        const h = CAT_HEADER.exec(text);
        if (h) {
          unit = h[2];
          section = '';
          return;
        }
        const t = text.trim();
        if (!t || t.startsWith('#') || t.startsWith(';')) return;
        const s = /^\[([^\]]+)\]$/.exec(t);
        if (s) return void (section = s[1]);
        const eq = t.indexOf('=');
        if (eq <= 0) return;
        ctx.emit({ kind: 'unitDirective', unit, section, key: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim(), ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
