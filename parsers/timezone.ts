import { defineParser, firstLineSink } from '../src/recognise/parser.js';

/** /etc/timezone (Debian), the /etc/localtime symlink target (RHEL, CentOS, systemd), or timedatectl. */
export default defineParser({
  id: 'timezone',
  describe: 'the host\'s time zone: /etc/timezone, the /etc/localtime symlink (…/zoneinfo/Asia/Shanghai), or `timedatectl show -p Timezone`',
  collect: 'cat /etc/timezone || readlink /etc/localtime || timedatectl show -p Timezone --value',
  recognise: {
    path: /(?:^|\/)etc\/(?:timezone|localtime)$/,
    head: (h) => !h.includes('\0') && !h.startsWith('TZif'),
    command: /^(cat \/etc\/timezone|readlink( -f)? \/etc\/localtime|timedatectl show -p Timezone( --value)?)\s*$/,
  },
  open(ctx) {
    return firstLineSink((text, no) => {
      let zone = text.trim().replace(/^Timezone=/, '');
      const link = /zoneinfo\/(?:posix\/|right\/)?(.+)$/.exec(zone);
      if (link) zone = link[1];
      if (!/^(?:[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*|UTC[+-]\d{1,2}(?::\d{2})?)$/.test(zone)) return ctx.warn(no, `not a time zone name: ${zone}`);
      ctx.emit({ kind: 'timezone', zone, ev: ctx.evidence(no, text) });
    });
  },
});
