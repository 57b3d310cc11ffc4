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
