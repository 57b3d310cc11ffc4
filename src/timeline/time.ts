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
  how: 'exact' | 'local' | 'year-inferred' | 'zone-assumed' | 'year-inferred, zone-assumed';
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

export function resolveStamp(s: Stamp, clock: HostClock): Resolved | undefined {
  if (s.kind === 'exact') return { utc: s.utc, how: 'exact' };
  const zoneAssumed = !s.zone && clock.zoneSource === 'assumed UTC';
  const zone = s.zone ?? clock.zone;
  const at = (year: number) =>
    DateTime.fromObject(
      { year, month: s.month, day: s.day, hour: s.hour, minute: s.minute, second: s.second, millisecond: s.millis },
      { zone },
    );
  let year = s.year ?? clock.year;
  let inferred = false;
  if (year === undefined) {
    if (clock.collectedAt === undefined) return undefined;
    // A date without a year is the latest such date not after the collection (a day of slack for skewed clocks).
    year = DateTime.fromMillis(clock.collectedAt, { zone }).year;
    let dt = at(year);
    for (let i = 0; i < 8 && (!dt.isValid || dt.toMillis() > clock.collectedAt + DAY); i++) dt = at(--year); // Feb 29 walks to a leap year
    inferred = true;
  }
  const dt = at(year);
  if (!dt.isValid) return undefined;
  const how: Resolved['how'] = inferred ? (zoneAssumed ? 'year-inferred, zone-assumed' : 'year-inferred') : zoneAssumed ? 'zone-assumed' : 'local';
  return { utc: dt.toMillis(), how };
}

/** ISO 8601 in UTC, to the millisecond, for reports. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

/** Local time with zone for text reports: "2020-02-06 12:22:17 +08:00". */
export function localText(ms: number, zone: string): string {
  const dt = DateTime.fromMillis(ms, { zone });
  return dt.isValid ? dt.toFormat("yyyy-LL-dd HH:mm:ss ZZ") : isoUtc(ms);
}
