import { DateTime, FixedOffsetZone, IANAZone } from 'luxon';
import type { Stamp } from '../model/facts.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** 1-based month from an English abbreviation ("Feb"), or 0. */
export function monthIndex(name: string): number {
  return MONTHS.indexOf(name.slice(0, 3).toLowerCase()) + 1;
}

/** How a host's local times are read: the zone, where it came from, and the collection time that anchors years. */
export interface HostClock {
  zone: string; // IANA name or "UTC+8"
  zoneSource: string; // "etc/timezone", "date -R offset", "--timezone", "assumed UTC"
  collectedAt?: number; // UTC millis
  collectedSource?: string;
  year?: number; // --year override
}

export interface Resolved {
  utc: number;
  /** How the instant was obtained, for the timeline's `time_inferred`. */
  how: 'exact' | 'local' | 'year-inferred' | 'zone-assumed' | 'year-inferred, zone-assumed' | 'age';
}

/** "+08:00" offset minutes → luxon zone name. */
export function offsetZone(minutes: number): string {
  if (minutes === 0) return 'UTC';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const h = Math.floor(abs / 60);
  const m = abs % 60;
  return m ? `UTC${sign}${h}:${String(m).padStart(2, '0')}` : `UTC${sign}${h}`;
}

export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone) || FixedOffsetZone.parseSpecifier(zone) !== null || zone === 'UTC';
}

const DAY = 24 * 3600 * 1000;

// Luxon costs ~20 µs a call; a million log lines would spend most of a report in it. The zone's offset is
// cached per local hour (and the inferred year per month and day), and luxon is asked again only for an hour in
// which the offset changes (DST) or a date it finds invalid.
const offsetCache = new Map<string, number | null>();
const yearCache = new Map<string, number>();

function hourOffset(zone: string, y: number, mo: number, d: number, h: number): number | null | undefined {
  const key = `${zone}|${y}|${mo}|${d}|${h}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    if (offsetCache.size > 200_000) offsetCache.clear();
    const start = DateTime.fromObject({ year: y, month: mo, day: d, hour: h }, { zone });
    const end = DateTime.fromObject({ year: y, month: mo, day: d, hour: h, minute: 59, second: 59 }, { zone });
    // Cache only an hour whose start is not shifted out of a gap (Lord Howe moves by 30 minutes) and whose offset holds throughout.
    off = start.isValid && end.isValid && start.offset === end.offset && start.hour === h && start.minute === 0 ? start.offset : null;
    offsetCache.set(key, off);
  }
  return off;
}

function localToUtc(zone: string, y: number, s: Extract<Stamp, { kind: 'local' }>): number | undefined {
  const off = hourOffset(zone, y, s.month, s.day, s.hour);
  if (off !== null && off !== undefined) {
    const utc = Date.UTC(y, s.month - 1, s.day, s.hour, s.minute, s.second, s.millis);
    // Date.UTC rolls Feb 30 over to March: such a date does not exist.
    if (new Date(utc).getUTCDate() !== s.day) return undefined;
    return utc - off * 60_000;
  }
  const dt = DateTime.fromObject({ year: y, month: s.month, day: s.day, hour: s.hour, minute: s.minute, second: s.second, millisecond: s.millis }, { zone });
  return dt.isValid ? dt.toMillis() : undefined;
}

export function resolveStamp(s: Stamp, clock: HostClock): Resolved | undefined {
  if (s.kind === 'exact') return { utc: s.utc, how: 'exact' };
  // An age ("5m ago") counts back from the collection, which may not be when the command ran: inferred.
  if (s.kind === 'ago') return clock.collectedAt === undefined ? undefined : { utc: clock.collectedAt - s.ms, how: 'age' };
  const zoneAssumed = !s.zone && clock.zoneSource === 'assumed UTC';
  const zone = s.zone ?? clock.zone;
  let year = s.year ?? clock.year;
  let inferred = false;
  if (year === undefined) {
    if (clock.collectedAt === undefined) return undefined;
    // A date without a year is the latest such date not after the collection (a day of slack for skewed clocks).
    const key = `${zone}|${clock.collectedAt}|${s.month}|${s.day}|${s.hour}`;
    let y = yearCache.get(key);
    if (y === undefined) {
      y = DateTime.fromMillis(clock.collectedAt, { zone }).year;
      for (let i = 0; i < 8; i++, y--) {
        const t = localToUtc(zone, y, { ...s, minute: 0, second: 0, millis: 0 });
        if (t !== undefined && t <= clock.collectedAt + DAY) break;
      }
      if (yearCache.size > 200_000) yearCache.clear();
      yearCache.set(key, y);
    }
    year = y;
    inferred = true;
  }
  const utc = localToUtc(zone, year, s);
  if (utc === undefined) return undefined;
  const how: Resolved['how'] = inferred ? (zoneAssumed ? 'year-inferred, zone-assumed' : 'year-inferred') : zoneAssumed ? 'zone-assumed' : 'local';
  return { utc, how };
}

/** ISO 8601 in UTC, to the millisecond, for reports. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

const utcHourOffset = new Map<string, number | null>();
const p2 = (n: number) => String(n).padStart(2, '0');

/**
 * Local time in ISO form, exactly as luxon's toISO() writes it ("2020-02-06T12:22:17.123+08:00", "…Z" in UTC), from
 * the offset and luxon's own suffix cached per UTC hour: a timeline export writes a million of them.
 */
export function localIso(ms: number, zone: string): string {
  const hour = Math.floor(ms / 3_600_000) * 3_600_000;
  const key = `${zone}|${hour}`;
  let cached = utcHourIso.get(key);
  if (cached === undefined) {
    if (utcHourIso.size > 100_000) utcHourIso.clear();
    const a = DateTime.fromMillis(hour, { zone });
    const b = DateTime.fromMillis(hour + 3_599_999, { zone });
    const iso = a.isValid && a.offset === b.offset ? a.toISO() : null;
    cached = iso ? { offset: a.offset, suffix: iso.slice(23) } : null; // "yyyy-MM-ddTHH:mm:ss.SSS" is 23 characters
    utcHourIso.set(key, cached);
  }
  const d = new Date(ms + (cached?.offset ?? 0) * 60_000);
  if (!cached || d.getUTCFullYear() < 1000 || d.getUTCFullYear() > 9999) return DateTime.fromMillis(ms, { zone }).toISO() ?? new Date(ms).toISOString();
  return `${d.toISOString().slice(0, 23)}${cached.suffix}`;
}
const utcHourIso = new Map<string, { offset: number; suffix: string } | null>();

/** Local time with zone for text reports: "2020-02-06 12:22:17 +08:00" (offset cached per UTC hour). */
export function localText(ms: number, zone: string): string {
  const key = `${zone}|${Math.floor(ms / 3_600_000)}`;
  let off = utcHourOffset.get(key);
  if (off === undefined) {
    if (utcHourOffset.size > 100_000) utcHourOffset.clear();
    const a = DateTime.fromMillis(Math.floor(ms / 3_600_000) * 3_600_000, { zone });
    const b = DateTime.fromMillis(Math.floor(ms / 3_600_000) * 3_600_000 + 3_599_999, { zone });
    off = a.isValid && a.offset === b.offset ? a.offset : null;
    utcHourOffset.set(key, off);
  }
  if (off === null) {
    const dt = DateTime.fromMillis(ms, { zone });
    return dt.isValid ? dt.toFormat('yyyy-LL-dd HH:mm:ss ZZ') : isoUtc(ms);
  }
  const d = new Date(ms + off * 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${sign}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`;
}
