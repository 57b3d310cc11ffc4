import type { Analysis } from '../engine/analyse.js';
import type { TimelineEvent } from '../model/host.js';
import { TIMESTAMP_DESC } from '../timeline/events.js';
import { localIso, localText, type Resolved } from '../timeline/time.js';
import { safeText } from './escape.js';
import { hostZone } from './related.js';

const YEAR = 'a year taken from the collection date';
const ZONE = 'a zone assumed to be UTC';
/** What an inferred time was inferred from, said once under the text timeline. */
const INFERRED: Record<Exclude<Resolved['how'], 'exact' | 'local'>, string[]> = {
  'year-inferred': [YEAR],
  'zone-assumed': [ZONE],
  'year-inferred, zone-assumed': [YEAR, ZONE],
  age: ['an age (kubectl describe) counted back from the collection'],
};

/** The text timeline, a line at a time (a busy node has a million events: joined, they were one string of 150 MB). */
export function* renderTimelineText(a: Analysis, events: TimelineEvent[]): Generator<string> {
  const inferred = new Set<string>();
  for (const e of events) {
    const inferredBy = e.how === 'exact' || e.how === 'local' ? undefined : INFERRED[e.how];
    for (const why of inferredBy ?? []) inferred.add(why);
    yield `${localText(e.at, hostZone(a, e.host))}${inferredBy ? '~' : ' '} ${safeText(e.host).padEnd(14)} ${e.kind.padEnd(17)} ${safeText(e.message)}\n`;
  }
  yield `${events.length} event${events.length === 1 ? '' : 's'}${inferred.size ? `; "~" marks an inferred time (${[...inferred].join('; ')})` : ''}.\n`;
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

/**
 * The NDJSON lines, one record at a time (a million of them built up front held a gigabyte), for a writer that gathers
 * them into large writes. The records are flat and made here, so JSON.stringify is all it takes: the ndjson package's
 * stream (a transform per record, and a cycle-safe stringify) and a write per line took 7.9 s a million records where
 * this takes 2.2 s; `forensics timeline` on the bench's scale 1 (a million events) spent 4.4 s in stdout's writes alone.
 */
export function* ndjsonLines(a: Analysis, events: TimelineEvent[]): Generator<string> {
  for (const e of events) yield `${JSON.stringify(timesketchRecord(a, e))}\n`;
}
