// Parsers under fuzzing: arbitrary and mutated real lines never throw out of a parser and never hang;
// every regular expression on bundle text runs in linear time on long adversarial lines.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsers } from '../parsers/index.js';
import { commandContext } from '../src/recognise/command.js';
import { recogniseBlock, recogniseEntry } from '../src/recognise/index.js';
import type { LineSink, ParseContext, Parser } from '../src/recognise/parser.js';

// Where each parser's input lives, so path-derived facts (pids) are exercised too.
const PATHS: Record<string, string> = {
  'proc-pid-stat': 'proc/42/stat',
  'proc-pid-comm': 'proc/42/comm',
  'proc-pid-cmdline': 'proc/42/cmdline',
  'proc-pid-status': 'proc/42/status',
  'ns-link': 'proc/42/ns/net',
  mountinfo: 'proc/42/mountinfo',
  'systemd-unit': 'etc/systemd/system/docker.service.d/x.conf',
  timezone: 'etc/localtime',
};

const SAMPLE = join(__dirname, '../samples/seed-incident');
const realLines = [
  ...readFileSync(join(SAMPLE, '10.2.1.4/commands/leak-hunt.txt'), 'utf8').split('\n'),
  ...readFileSync(join(SAMPLE, '10.2.1.4/var/log/galaxy/galaxy.INFO'), 'utf8').split('\n'),
  ...readFileSync(join(SAMPLE, '10.2.1.4/var/log/messages'), 'utf8').split('\n'),
  ...readFileSync(join(SAMPLE, '10.2.1.4/proc/8581/mountinfo'), 'utf8').split('\n'),
  ...readFileSync(join(SAMPLE, '10.2.1.4/commands/docker-inspect.json'), 'utf8').split('\n').slice(0, 60),
  ...readFileSync(join(SAMPLE, '10.2.1.6/ps.txt'), 'utf8').split('\n'),
  ...readFileSync(join(SAMPLE, '10.2.1.6/ns-net.txt'), 'utf8').split('\n'),
  '10326 (cat) R 10315 10315 2436 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 64418 3133440',
  'Wed, 08 Feb 2017 16:40:12 +0800',
  'MountFlags=slave',
  'ExecMainStartTimestamp=Sun 2019-05-19 18:09:07 CST',
  '[{"ifindex":2,"link_index":7,"ifname":"eth0","flags":["UP"],"addr_info":[{"family":"inet","local":"10.244.1.4","prefixlen":24,"scope":"global"}]}]',
].filter(Boolean);

/** A real line with a slice deleted, characters inserted, separators repeated, or cut short. */
const mutated = fc
  .tuple(fc.constantFrom(...realLines), fc.nat(), fc.nat(), fc.string({ maxLength: 20 }), fc.constantFrom(0, 1, 2, 3))
  .map(([line, a, b, ins, how]) => {
    const i = a % (line.length + 1);
    const j = Math.min(line.length, i + (b % 12));
    if (how === 0) return line.slice(0, i) + line.slice(j);
    if (how === 1) return line.slice(0, i) + ins + line.slice(i);
    if (how === 2) return line.slice(0, i) + line.slice(i, j).repeat(50) + line.slice(j);
    return line.slice(0, i);
  });
const anyLine = fc.oneof(mutated, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 120 }));

function context(path: string, command?: string): ParseContext {
  const ctx: ParseContext = {
    source: `fuzz/${path}`,
    path,
    command: command ? commandContext(command) : undefined,
    emit: () => {},
    warn: () => {},
    evidence: (line, text) => ({ source: `fuzz/${path}`, line, text }),
    dispatch(cmd, head) {
      const p = recogniseBlock(cmd, head);
      return p ? p.open({ ...ctx, command: cmd }) : undefined; // unguarded: a throw fails the test
    },
  };
  return ctx;
}

function feed(p: Parser, lines: string[], path = PATHS[p.id] ?? 'fuzz.txt'): void {
  const sink: LineSink = p.open(context(path));
  lines.forEach((l, i) => sink.line(l, i + 1));
  sink.end();
}

describe('parsers under fuzzing', () => {
  it.each(parsers.map((p) => [p.id, p]))('%s never throws on arbitrary or mutated lines', (_id, p) => {
    fc.assert(fc.property(fc.array(anyLine, { maxLength: 30 }), (lines) => feed(p as Parser, lines)), { numRuns: 150 });
  });

  it('transcripts of arbitrary blocks never throw, whatever the commands', () => {
    const transcript = parsers.find((p) => p.id === 'transcript')!;
    const prompt = fc.constantFrom('# ip addr', '$ nsenter -t 1 -m nsenter --net=/x ip ad', '[root@n ~]# docker inspect a', 'root@n:~# cat /proc/1/mountinfo', '# systemctl show docker', '# ls -l /proc/*/fd/', '# nsenter --net=/proc/1/fd/x ip -j addr');
    fc.assert(fc.property(fc.array(fc.oneof(prompt, anyLine), { maxLength: 40 }), (lines) => feed(transcript, lines)), { numRuns: 300 });
  });

  it('docker inspect of any JSON shape never throws', () => {
    const inspect = parsers.find((p) => p.id === 'docker-inspect')!;
    const id = fc.constant('a'.repeat(64));
    const doc = fc.array(fc.oneof(fc.jsonValue(), fc.record({ Id: id, Name: fc.jsonValue(), State: fc.jsonValue(), Config: fc.oneof(fc.jsonValue(), fc.record({ Labels: fc.jsonValue() })), NetworkSettings: fc.oneof(fc.jsonValue(), fc.record({ Networks: fc.jsonValue(), SandboxKey: fc.jsonValue(), IPAddress: fc.jsonValue() })), HostConfig: fc.jsonValue() })));
    fc.assert(fc.property(doc, (d) => feed(inspect, JSON.stringify(d, null, 1).split('\n'))), { numRuns: 300 });
  });

  it('recognisers never throw on arbitrary heads and paths', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 4096 }), (path, head) => void recogniseEntry(path, head)), { numRuns: 300 });
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (cmd) => void commandContext(cmd)), { numRuns: 300 });
  });
});

// 1 MiB is the longest line the engine passes on; a linear pass over it takes milliseconds, a catastrophic one minutes.
const MB = 1024 * 1024;
const adversarial: [string, string][] = [
  ['spaces', ' '.repeat(MB)],
  ['tabs', '\t'.repeat(MB)],
  ['words', 'a '.repeat(MB / 2)],
  ['colons', ':'.repeat(MB)],
  ['brackets', '['.repeat(MB / 2) + ']'.repeat(MB / 2)],
  ['quotes', '"'.repeat(MB)],
  ['escaped quotes', '\\"'.repeat(MB / 2)],
  ['glog prefixes', 'I0206 12:22:17.639674   1 a.go:1] ADD '.repeat(MB / 40)],
  ['cni fields', ', '.repeat(MB / 2)],
  ['mountinfo fields', '1 2 0:3 / /a rw '.repeat(MB / 16)],
  ['ip addr', '    inet 10.0.0.1/24 brd 1 '.repeat(MB / 28)],
  ['logrus', 'time="2017-02-06T15:40:22.412983101+08:00" level=info msg="'.repeat(MB / 60)],
  ['prompt', `[root@${'a'.repeat(MB)}`],
  ['prompt2', `${'a@'.repeat(MB / 2)}:`],
  ['ls arrows', ' -> net:['.repeat(MB / 10)],
  ['digits', '1'.repeat(MB)],
  // Daemon logs: these made the journald prefix, kubelet's and containerd's patterns and the key=value reader quadratic.
  ['syslog prefix, no colon', `Dec 28 00:04:45 ${'a'.repeat(MB - 16)}`],
  ['iso prefix, no colon', `2019-10-02T23:27:34+0000 ${'a'.repeat(MB - 25)}`],
  ['kubelet phrases', `E1228 00:04:45.997242    8024 r.go:92] ${'CreatePodSandbox for pod x StopPodSandbox "a" '.repeat(MB / 48)}`],
  ['containerd phrases', `time="2019-10-02T23:27:34.4Z" level=error msg="${'RunPodSandbox for StopPodSandbox for '.repeat(MB / 38)}`],
  ['a key with no =', `time="2019-10-02T23:27:34.4Z" level=info msg="m" ${'a'.repeat(MB - 60)}`],
  ['journal json', `{"__REALTIME_TIMESTAMP":"1","MESSAGE":"${'Failed to stop sandbox '.repeat(MB / 24)}"}`],
];

describe('regular expressions run in linear time', () => {
  it.each(parsers.map((p) => [p.id, p]))('%s on 1 MiB adversarial lines', (_id, p) => {
    for (const [name, line] of adversarial) {
      const t0 = performance.now();
      feed(p as Parser, [line, line]);
      const ms = performance.now() - t0;
      expect(ms, `${name}: ${ms.toFixed(0)} ms`).toBeLessThan(2000);
    }
  });

  it('recognisers and command lines on adversarial input', () => {
    for (const [name, line] of adversarial) {
      const t0 = performance.now();
      recogniseEntry('proc/1/mountinfo', line.slice(0, 4096));
      recogniseEntry(name, line.slice(0, 4096));
      commandContext(line.slice(0, 100_000));
      expect(performance.now() - t0, name).toBeLessThan(2000);
    }
  });
});

/** The lines split over several chunks, each a fresh Buffer, visited in order with their place in the chunk and number. */
function inChunks(lines: string[], chunks: number, visit: (buf: Buffer, from: number, to: number, line: string, no: number) => void): void {
  const per = Math.ceil(lines.length / chunks);
  let no = 0;
  for (let c = 0; c < lines.length; c += per) {
    const part = lines.slice(c, c + per);
    const buf = Buffer.from(part.join('\n'));
    let from = 0;
    for (const line of part) {
      const to = from + Buffer.byteLength(line);
      visit(buf, from, to, line, ++no);
      from = to + 1;
    }
  }
}

describe('Needles (the byte prefilter of every big log)', () => {
  it('answers as a plain substring test would, line after line, over chunks that change', async () => {
    const { Needles } = await import('../src/recognise/parser.js');
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[ab\] DEL]{0,12}$/), { minLength: 1, maxLength: 40 }), fc.array(fc.stringMatching(/^[ab\] DEL]{1,4}$/), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), (lines, words, chunks) => {
        const n = new Needles(words);
        inChunks(lines, chunks, (buf, from, to, line) => expect(n.any(buf, from, to)).toBe(words.some((w) => line.includes(w))));
      }),
      { numRuns: 500 },
    );
  });

  it('fanOut skipping sinks by their horizon hands every sink exactly the lines its words are in', async () => {
    const { fanOut, wordFilter } = await import('../src/recognise/parser.js');
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[ab\] DEL]{0,12}$/), { minLength: 1, maxLength: 40 }),
        fc.array(fc.array(fc.stringMatching(/^[ab\] DEL]{1,4}$/), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        (lines, wordSets, chunks, plainSink) => {
          const got = wordSets.map(() => [] as number[]);
          const sinks = wordSets.map((ws, i) => ({ ...wordFilter(ws), line: (_t: string, no: number) => got[i].push(no), end() {} }));
          // One sink without a horizon (as dockerd's): asked about every line.
          const plain: number[] = [];
          const all = plainSink ? [...sinks, { accepts: (b: Buffer, f: number, t: number) => b.subarray(f, t).includes('b'), line: (_t: string, no: number) => plain.push(no), end() {} }] : sinks;
          const out = fanOut(all);
          inChunks(lines, chunks, (buf, from, to, line, no) => out.accepts!(buf, from, to) && out.line(line, no));
          wordSets.forEach((ws, i) => expect(got[i]).toEqual(lines.flatMap((l, k) => (ws.some((w) => l.includes(w)) ? [k + 1] : []))));
          if (plainSink) expect(plain).toEqual(lines.flatMap((l, k) => (l.includes('b') ? [k + 1] : [])));
        },
      ),
      { numRuns: 500 },
    );
  });
});
