import { describe, expect, it } from 'vitest';
import { resolveStamp } from '../src/timeline/time.js';
import { parseGlog } from '../src/timeline/glog.js';
import { analyseHosts } from './helpers.js';

const clock = (collected: string, zone = 'Asia/Shanghai') => ({ zone, zoneSource: 'etc/timezone', collectedAt: Date.parse(collected) });

describe('time', () => {
  it('gives a glog date the year of the collection, in the host zone', () => {
    const at = parseGlog('I0206 12:22:17.639674   27084 server.go:81] ADD x')!.at;
    expect(resolveStamp(at, clock('2017-02-08T09:05:41Z'))).toEqual({ utc: Date.parse('2017-02-06T04:22:17.639Z'), how: 'year-inferred' });
  });

  it('walks back across a year end: December lines in a log collected on January 2 are last year\'s', () => {
    const c = clock('2021-01-02T03:00:00Z', 'UTC');
    expect(new Date(resolveStamp(parseGlog('I1231 23:59:59.000000 1 a.go:1] x')!.at, c)!.utc).toISOString()).toBe('2020-12-31T23:59:59.000Z');
    expect(new Date(resolveStamp(parseGlog('I0101 00:00:05.000000 1 a.go:1] x')!.at, c)!.utc).toISOString()).toBe('2021-01-01T00:00:05.000Z');
  });

  it('finds a leap year for Feb 29', () => {
    const r = resolveStamp({ kind: 'local', month: 2, day: 29, hour: 1, minute: 0, second: 0, millis: 0 }, clock('2023-03-01T00:00:00Z', 'UTC'));
    expect(new Date(r!.utc).toISOString()).toBe('2020-02-29T01:00:00.000Z');
  });

  it('says when the zone was assumed, and honours --year and --timezone', () => {
    const s = { kind: 'local' as const, month: 2, day: 6, hour: 12, minute: 0, second: 0, millis: 0 };
    expect(resolveStamp(s, { zone: 'UTC', zoneSource: 'assumed UTC', collectedAt: Date.parse('2017-03-01T00:00:00Z') })?.how).toBe('year-inferred, zone-assumed');
    expect(resolveStamp(s, { zone: 'Europe/Berlin', zoneSource: '--timezone', year: 2015 })).toEqual({ utc: Date.parse('2015-02-06T11:00:00Z'), how: 'local' });
    expect(resolveStamp(s, { zone: 'UTC', zoneSource: 'assumed UTC' })).toBeUndefined();
  });

  it('uses --timezone over the bundle, and reports an assumed zone as a diagnostic', async () => {
    const files = { 'cni.log': 'I0206 12:22:17.639674   1 server.go:81] ADD p_demo, ' + 'a'.repeat(64) + ', /proc/9/ns/net, K8S_POD_NAME=p, data {"ip4":{"ip":"10.0.0.9/24"}}, err <nil>\n', 'date.txt': '# date -R\nWed, 08 Feb 2017 17:05:41 +0000\n' };
    const plain = await analyseHosts({ h: files });
    expect(plain.hosts[0].claims[0].at).toBe(Date.parse('2017-02-06T12:22:17.639Z'));
    const tz = await analyseHosts({ h: files }, { timezone: 'Asia/Shanghai' });
    expect(tz.hosts[0].claims[0].at).toBe(Date.parse('2017-02-06T04:22:17.639Z'));
    const none = await analyseHosts({ h: { 'cni.log': files['cni.log'] } }, { year: 2017 });
    expect(none.diagnostics).toContainEqual(expect.objectContaining({ level: 'info', message: expect.stringMatching(/local times are read as UTC/) }));
  });
});

describe('the cached time resolution agrees with luxon', () => {
  it('for random local times in zones with DST, with and without a year', async () => {
    const fc = (await import('fast-check')).default;
    const { DateTime } = await import('luxon');
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Shanghai', 'Australia/Lord_Howe', 'UTC', 'UTC+5:30'];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: 2000, max: 2030 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), (zone, year, month, day, hour, minute) => {
        const s = { kind: 'local' as const, year, month, day, hour, minute, second: 7, millis: 123 };
        const direct = DateTime.fromObject({ year, month, day, hour, minute, second: 7, millisecond: 123 }, { zone });
        const got = resolveStamp(s, { zone, zoneSource: 'etc/timezone' });
        if (!direct.isValid) return got === undefined;
        return got?.utc === direct.toMillis();
      }),
      { numRuns: 20000 },
    );
  });

  it('across the Berlin DST changes', () => {
    const c = { zone: 'Europe/Berlin', zoneSource: 'etc/timezone' };
    const at = (month: number, day: number, hour: number, minute: number) => new Date(resolveStamp({ kind: 'local', year: 2021, month, day, hour, minute, second: 0, millis: 0 }, c)!.utc).toISOString();
    expect(at(3, 28, 1, 59)).toBe('2021-03-28T00:59:00.000Z');
    expect(at(3, 28, 3, 0)).toBe('2021-03-28T01:00:00.000Z');
    expect(at(10, 31, 3, 30)).toBe('2021-10-31T02:30:00.000Z');
  });
});

describe('local time text', () => {
  it('formats like luxon, across zones and DST', async () => {
    const { localText } = await import('../src/timeline/time.js');
    const { DateTime } = await import('luxon');
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.constantFrom('Europe/Berlin', 'America/St_Johns', 'Asia/Kolkata', 'UTC', 'UTC+8'), fc.integer({ min: 946684800000, max: 1924992000000 }), (zone, ms) => localText(ms, zone) === DateTime.fromMillis(ms, { zone }).toFormat('yyyy-LL-dd HH:mm:ss ZZ')),
      { numRuns: 3000 },
    );
  });
});

describe('process starts on the timeline', () => {
  it("marks the start of a process holding a copy of a leaked namespace's mount, not of the host's oldest process", async () => {
    const { allEvents } = await import('../src/timeline/events.js');
    const { hostTree, nsfs } = await import('./rules/fixture.js');
    const a = await analyseHosts({
      h: hostTree([
        { pid: 1, ppid: 0, comm: 'systemd', started: 'Mon Jan 16 08:00:00 2017', net: '4026531840', mnt: '4026531841', mountinfo: [nsfs('4026532777', '/run/netns/old-pod', 'shared:2')] },
        { pid: 7393, args: 'sleep 900', started: 'Fri Feb  3 10:00:00 2017', net: '4026532900', mnt: '4026532319', mountinfo: [nsfs('4026532777', '/run/netns/old-pod')] },
      ]),
    });
    expect(a.findings.find((f) => f.rule === 'netns-leaked')?.pinnedBy.map((p) => p.pid)).toEqual([1, 7393]);
    expect(allEvents(a).filter((e) => e.kind === 'process:start').map((e) => e.pid)).toEqual([7393]);
  });
});

describe('localIso', () => {
  it("writes exactly what luxon's toISO writes, across zones, fixed offsets and DST changes", async () => {
    const { DateTime } = await import('luxon');
    const { localIso } = await import('../src/timeline/time.js');
    const zones = ['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/Sao_Paulo', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/St_Johns', 'UTC+8', 'UTC-3:30'];
    // Every 7 minutes 13 seconds and 17 milliseconds over the days around spring-forward and fall-back in both hemispheres.
    const starts = [Date.UTC(2024, 2, 30), Date.UTC(2024, 9, 26), Date.UTC(2024, 3, 6), Date.UTC(2017, 1, 6)];
    let checked = 0;
    for (const zone of zones)
      for (const start of starts)
        for (let ms = start; ms < start + 2 * 86_400_000; ms += 433_017) {
          expect(localIso(ms, zone), `${zone} ${ms}`).toBe(DateTime.fromMillis(ms, { zone }).toISO());
          checked++;
        }
    expect(checked).toBeGreaterThan(10_000);
  });
});

describe('every CNI line on the timeline', () => {
  it('has an event per ADD and DEL, and --ip finds every holder of an address, however many the model keeps', async () => {
    const { cniLine } = await import('./rules/fixture.js');
    const { allEvents, filterEvents } = await import('../src/timeline/events.js');
    const { CLAIMS_PER_IP } = await import('../src/model/ledger.js');
    // 10.2.1.15 given to ten sandboxes in turn, then to an eleventh that still holds it; 10.2.1.16 held throughout.
    const holders = Array.from({ length: 11 }, (_, k) => (k + 1).toString(16).padStart(2, '0').repeat(32));
    const lines = [cniLine('ADD', '0206 10:00:00.000000', 'e'.repeat(64), 'steady', '10.2.1.16')];
    holders.forEach((id, k) => {
      const t = (m: number) => `0206 11:${String(k * 4 + m).padStart(2, '0')}:00.000000`;
      lines.push(cniLine('ADD', t(0), id, `job-${k}`, '10.2.1.15'));
      if (k < 10) lines.push(cniLine('DEL', t(2), id, `job-${k}`, undefined));
    });
    const files = { 'cni.log': `${lines.join('\n')}\n`, 'date.txt': '# date -R\nWed, 08 Feb 2017 17:05:41 +0000\n' };
    const a = await analyseHosts({ h: files }, { keepAllEvents: true });
    const cni = allEvents(a).filter((e) => e.kind.startsWith('cni:'));
    expect(cni.length).toBe(lines.length); // 22: the model keeps only the last claims, the timeline every line
    expect(a.hosts[0].claims.filter((k) => k.ip === '10.2.1.15').length).toBeLessThanOrEqual(CLAIMS_PER_IP + 1);
    const story = filterEvents(allEvents(a), a, { ip: '10.2.1.15' }).filter((e) => e.kind.startsWith('cni:'));
    expect(story.map((e) => `${e.kind} ${e.containerId!.slice(0, 2)}`)).toEqual(holders.flatMap((id, k) => [`cni:add ${id.slice(0, 2)}`, ...(k < 10 ? [`cni:del ${id.slice(0, 2)}`] : [])]));
    expect(story[1].message).toBe(`CNI DEL ${holders[0].slice(0, 12)} (pod demo/job-0)`);
    // The report's own reading keeps no event per line: a busy node's log is not held for it.
    const reduced = await analyseHosts({ h: files });
    expect(allEvents(reduced).filter((e) => e.kind.startsWith('cni:')).length).toBeLessThan(lines.length);
  });
});

describe('the text timeline', () => {
  it('says under it what its inferred times were inferred from: a time whose year and zone both were names both', async () => {
    const { allEvents } = await import('../src/timeline/events.js');
    const { renderTimelineText } = await import('../src/report/timeline.js');
    const { cniLine } = await import('./rules/fixture.js');
    // No date -R and no zone: the collection is the newest file time, the year comes from it and the zone is assumed.
    const a = await analyseHosts({ h: { 'cni.log': `${cniLine('ADD', '0206 12:22:17.639674', 'a'.repeat(64), 'web', '10.2.1.9')}\n` } });
    const text = [...renderTimelineText(a, allEvents(a))].join('');
    expect(text).toMatch(/~ h +cni:add +CNI ADD aaaaaaaaaaaa/);
    expect(text.trimEnd().split('\n').pop()).toBe('2 events; "~" marks an inferred time (a year taken from the collection date; a zone assumed to be UTC).');
  });
});
