import { defineParser } from '../src/recognise/parser.js';

export default defineParser({
  id: 'timezone',
  describe: '/etc/timezone (IANA zone name), or `timedatectl show -p Timezone`',
  collect: 'cat /etc/timezone || timedatectl show -p Timezone --value',
  recognise: {
    path: /(?:^|\/)etc\/timezone$/,
    command: /^(cat \/etc\/timezone|timedatectl show -p Timezone( --value)?)\s*$/,
  },
  open(ctx) {
    let done = false;
    return {
      line(text, no) {
        const zone = text.trim().replace(/^Timezone=/, '');
        if (done || !zone || zone.startsWith('#')) return;
        done = true;
        ctx.emit({ kind: 'timezone', zone, ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
