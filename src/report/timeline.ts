import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { Analysis } from '../engine/analyse.js';
import type { TimelineEvent } from '../model/host.js';
import { TIMESTAMP_DESC } from '../timeline/events.js';
import { localIso, localText } from '../timeline/time.js';
import { safeText } from './escape.js';
import { hostZone } from './related.js';

export function renderTimelineText(a: Analysis, events: TimelineEvent[]): string {
  const lines = events.map((e) => `${localText(e.at, hostZone(a, e.host))}${e.how === 'exact' || e.how === 'local' ? ' ' : '~'} ${safeText(e.host).padEnd(14)} ${e.kind.padEnd(17)} ${safeText(e.message)}`);
  const inferred = events.some((e) => e.how !== 'exact' && e.how !== 'local');
  return `${lines.join('\n')}${lines.length ? '\n' : ''}${events.length} event${events.length === 1 ? '' : 's'}${inferred ? '; "~" marks a time whose year or zone was inferred' : ''}.\n`;
}

/** One flat object per event, as Timesketch imports it: every field always present with one type. */
export function timesketchRecord(a: Analysis, e: TimelineEvent) {
  return {
    message: e.message,
    datetime: localIso(e.at, hostZone(a, e.host)),
    timestamp: Math.round(e.at * 1000),
    timestamp_desc: TIMESTAMP_DESC[e.kind] ?? e.kind,
    data_type: `cni_forensics:${e.kind}`,
    host: e.host,
    source: e.ev.source,
    line: e.ev.line,
    ip: e.ip ?? '',
    container_id: e.containerId ?? '',
    pod: e.pod ?? '',
    netns: e.netns ?? '',
    pid: e.pid ?? -1,
    time_inferred: e.how !== 'exact' && e.how !== 'local',
    time_source: e.how,
  };
}

export async function writeNdjson(a: Analysis, events: TimelineEvent[], out: Writable): Promise<void> {
  const { default: ndjson } = await import('ndjson'); // only this output needs it
  // One record at a time: a million of them built up front held a gigabyte.
  const records = function* () {
    for (const e of events) yield timesketchRecord(a, e);
  };
  await pipeline(Readable.from(records()), ndjson.stringify(), out, { end: false });
}
