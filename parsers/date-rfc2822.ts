import { DateTime } from 'luxon';
import { defineParser, firstLineSink } from '../src/recognise/parser.js';

const DATE_R = /^(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

/** `date -R`: the collection time and the host's UTC offset at that moment. */
export default defineParser({
  id: 'date-r',
  describe: '`date -R`: when the evidence was collected, and the host clock\'s UTC offset',
  collect: 'date -R',
  recognise: { command: /^date -R\b/, sniff: (h) => DATE_R.test(h.trim()) },
  open(ctx) {
    return firstLineSink((text, no) => {
      const dt = DateTime.fromRFC2822(text.trim(), { setZone: true });
      if (!dt.isValid) return ctx.warn(no, `not an RFC 2822 date: ${text.trim()}`);
      ctx.emit({ kind: 'clock', utc: dt.toMillis(), offsetMinutes: dt.offset, ev: ctx.evidence(no, text) });
    });
  },
});
