import { defineParser, firstLineSink } from '../src/recognise/parser.js';

const RELEASE = /^\d+\.\d+(?:\.\d+)?[-+.\w~]*$/;

export default defineParser({
  id: 'uname',
  describe: '`uname -r` (or `uname -a`): the kernel release, which decides how netns mounts look and whether their files can be removed',
  collect: 'uname -r',
  recognise: {
    path: /(?:^|\/)proc\/sys\/kernel\/osrelease$/,
    command: /^uname( -[a-z]+)*\s*$/,
    sniff: (h) => /^\d+\.\d+\.\d+-[\w.~+-]+$/.test(h.trim()) || /^Linux \S+ \d+\.\d+\S* #/.test(h.trim()),
  },
  open(ctx) {
    return firstLineSink((text, no) => {
      const t = text.trim();
      const release = RELEASE.test(t) ? t : /^Linux \S+ (\d+\.\d+\S*) /.exec(t)?.[1];
      if (release) ctx.emit({ kind: 'kernel', release, ev: ctx.evidence(no, text) });
    });
  },
});
