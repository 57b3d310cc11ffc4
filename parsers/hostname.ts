import { defineParser, firstLineSink } from '../src/recognise/parser.js';

export default defineParser({
  id: 'hostname',
  describe: '/etc/hostname or the output of `hostname`',
  collect: 'hostname',
  recognise: { path: /(?:^|\/)etc\/hostname$/, command: /^(hostname|cat \/etc\/hostname|uname -n)\s*$/ },
  open(ctx) {
    return firstLineSink((text, no) => {
      const name = text.trim();
      if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(name)) ctx.emit({ kind: 'hostname', name, ev: ctx.evidence(no, text) });
      else ctx.warn(no, 'not a host name');
    });
  },
});
