import { describe, expect, it } from 'vitest';
import { guarded, parseText } from '../src/engine/analyse.js';
import type { Diagnostic } from '../src/model/host.js';
import type { Fact } from '../src/model/facts.js';
import { defineParser, type ParseContext } from '../src/recognise/parser.js';
import { analyseHosts, link, only } from './helpers.js';

describe('bundle layouts', () => {
  it('reads a bundle holding one folder per host as several hosts, named by their hostname evidence', async () => {
    const a = await analyseHosts({
      incident: {
        'node-a/etc/hostname': 'node-a.example\n',
        'node-a/proc/1/ns/net': link('net:[4026531840]'),
        'node-b/proc/1/ns/net': link('net:[4026531999]'),
        'node-b/date.txt': '# date -R\nWed, 08 Feb 2017 17:05:41 +0800\n',
        'README.txt': 'notes from the on-call engineer\n',
      },
    });
    expect(a.hosts.map((h) => h.name)).toEqual(['node-a.example', 'node-b']);
  });

  it('keeps one host when the top level is the host\'s own tree, even below a wrapping folder', async () => {
    const a = await analyseHosts({ wrap: { 'node-x-20250101/proc/1/ns/net': link('net:[4026531840]'), 'node-x-20250101/etc/hostname': 'x\n' } });
    expect(a.hosts.map((h) => h.name)).toEqual(['x']);
  });
});

describe('process evidence', () => {
  it('reads /proc/<pid>/status and ps -ef', async () => {
    const status = await parseText('proc/8581/status', 'Name:\tdocker_monitor\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t8581\nPid:\t8581\nPPid:\t1\n');
    expect(only(status.facts, 'process')).toMatchObject([{ pid: 8581, ppid: 1, comm: 'docker_monitor' }]);
    const ef = await parseText('ps-ef.txt', 'UID        PID  PPID  C STIME TTY          TIME CMD\nroot         1     0  0 Feb06 ?        00:00:09 /usr/lib/systemd/systemd --switched-root\nroot      8581     1  0 Feb03 ?        00:00:01 docker_monitor a1c3\n');
    expect(only(ef.facts, 'process').map((p) => [p.pid, p.ppid, p.args])).toEqual([
      [1, 0, '/usr/lib/systemd/systemd --switched-root'],
      [8581, 1, 'docker_monitor a1c3'],
    ]);
  });
});

describe('a parser that throws', () => {
  it('costs one warning naming the file and line; lines before it are kept', () => {
    const diagnostics: Diagnostic[] = [];
    const facts: unknown[] = [];
    const boom = defineParser({
      id: 'boom',
      describe: 'throws on its third line',
      collect: '-',
      recognise: {},
      open: (ctx) => ({
        line(text, no) {
          if (no === 3) throw new Error('unexpected token');
          ctx.emit({ kind: 'hostname', name: text, ev: ctx.evidence(no, text) });
        },
        end() {},
      }),
    });
    const ctx = { source: 'b/f.txt', path: 'f.txt', emit: (f: unknown) => facts.push(f), warn: () => {}, evidence: (line: number, text: string) => ({ source: 'b/f.txt', line, text }) } as ParseContext;
    const sink = guarded(boom, ctx, diagnostics);
    for (const [i, t] of ['a', 'b', 'c', 'd'].entries()) sink.line(t, i + 1);
    sink.end();
    expect(facts).toHaveLength(2);
    expect(diagnostics).toEqual([{ level: 'warning', source: 'b/f.txt:3', message: expect.stringContaining('boom parser failed here (unexpected token)') }]);
  });
});

describe('byte prefilters', () => {
  it('Needles, searching from each word’s rarest byte, agrees with a plain substring test on every line', async () => {
    const { Needles } = await import('../src/recognise/parser.js');
    const fc = (await import('fast-check')).default;
    // Few letters, so that words, their tails and near misses ("xnsfs", "- nsf") occur often and straddle lines.
    const text = fc.array(fc.constantFrom('a', 'b', ' ', '-', 'n', 's', 'f', 'x', '\n'), { minLength: 0, maxLength: 400 }).map((a) => a.join(''));
    const words = fc.array(fc.array(fc.constantFrom('a', 'b', ' ', '-', 'n', 's', 'f', 'x'), { minLength: 1, maxLength: 6 }).map((a) => a.join('')), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(text, text, words, (first, second, ws) => {
        const n = new Needles(ws);
        for (const chunk of [first, second]) {
          const buf = Buffer.from(chunk);
          let from = 0;
          for (const line of chunk.split('\n')) {
            const to = from + line.length;
            expect(n.any(buf, from, to)).toBe(ws.some((w) => line.includes(w)));
            ws.forEach((w, i) => expect(n.at(i, buf, from, to)).toBe(line.includes(w)));
            from = to + 1;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('byte prefilters on a word in every line', () => {
  it('finds a word where the last line had it, elsewhere, twice, or not at all, and its horizon stays within the line', async () => {
    const { Needles } = await import('../src/recognise/parser.js');
    const lines = ['t=1 level=info a', 't=2 level=info b', 't=3 level=error', 'level=info first', 't=44 level=info', 'level=info t=5 level=info', 't=6 level=infx', 't=7 level=info'];
    const text = lines.join('\n');
    const buf = Buffer.from(text);
    const n = new Needles(['level=info']);
    const got: boolean[] = [];
    let from = 0;
    for (const line of lines) {
      const to = from + line.length;
      got.push(n.any(buf, from, to));
      // Asked after the line's answer, as a reader of several sinks does: within this line when it holds the word
      // (no line after it is skipped), else the end of the next occurrence.
      const h = n.horizon(buf, from);
      const first = text.indexOf('level=info', from);
      if (line.includes('level=info')) expect(h).toBeLessThanOrEqual(to);
      else expect(h).toBe(first < 0 ? Infinity : first + 'level=info'.length);
      from = to + 1;
    }
    expect(got).toEqual(lines.map((l) => l.includes('level=info')));
  });
});

describe('line splitting', () => {
  it('cuts a line longer than the limit wherever it lies, inside a chunk or across two, and says so once per line', async () => {
    const { LineSplitter } = await import('../src/bundle/lines.js');
    const got: [number, string][] = [];
    const cut: number[] = [];
    const s = new LineSplitter({ line: (t, no) => got.push([no, t]), end: () => {} }, 10, (no) => cut.push(no));
    s.push(Buffer.from('short\n0123456789abcdefghij\nok\n0123'));
    s.push(Buffer.from('456789XYZ\nlast'));
    s.end();
    expect(got).toEqual([[1, 'short'], [2, '0123456789'], [3, 'ok'], [4, '0123456789'], [5, 'last']]);
    expect(cut).toEqual([2, 4]);
  });
});

describe('CNI ledger counts what it does not keep', () => {
  it('an IP handed out 40 times keeps the last claims and says how many there were', async () => {
    const { CniLedger, CLAIMS_PER_IP } = await import('../src/model/ledger.js');
    const ledger = new CniLedger(false);
    let line = 0;
    const op = (o: 'ADD' | 'DEL', id: string, ips: string[]) => ({ kind: 'cniOp' as const, op: o, containerId: id, ips, at: { kind: 'exact' as const, utc: line * 1000 }, ev: { source: 'cni.log', line: ++line, text: `${o} ${id}` } });
    // Three pods cycling through one pair of addresses; two IPs per ADD, so that one ADD carries two counts.
    for (let i = 0; i < 40; i++) {
      const id = `${i % 3}${'a'.repeat(63)}`;
      ledger.push(op('ADD', id, ['10.0.0.1', 'fd00::1']));
      ledger.push(op('DEL', id, []));
    }
    const facts = ledger.facts();
    const adds = facts.filter((f) => f.op === 'ADD');
    const counted = adds.find((f) => f.droppedBefore);
    expect(counted?.ips).toEqual(['10.0.0.1', 'fd00::1']);
    expect(counted?.droppedBefore).toEqual([40 - adds.length, 40 - adds.length]);
    expect(adds.length).toBeGreaterThanOrEqual(CLAIMS_PER_IP);
    expect(adds.length).toBeLessThan(40);
  });
});

describe('one big CNI log read by two threads', () => {
  it('gives the same kept facts whether lines are kept as facts or as evidence, and whether one ledger or two read them', async () => {
    const { CniLedger } = await import('../src/model/ledger.js');
    const { entryParsing } = await import('../src/engine/analyse.js');
    const { DEFAULT_LIMITS } = await import('../src/bundle/entry.js');
    const { LineSplitter } = await import('../src/bundle/lines.js');
    const cni = (await import('../parsers/cni-glog.js')).default;
    const { messyCniLog } = await import('./cni-log.js');
    const data = Buffer.from(messyCniLog(30_000));
    const path = 'var/log/cni/cni.log';
    const feed = (splitter: InstanceType<typeof LineSplitter>) => {
      for (let i = 0; i < data.length; i += 65536) splitter.push(data.subarray(i, i + 65536));
      splitter.end();
    };
    // The ledger as it was: every line kept as its fact, one thread.
    const plain = new CniLedger(false);
    const warnings: string[] = [];
    const ctx: ParseContext = { source: 'b/var/log/cni/cni.log', path, emit: (f) => f.kind === 'cniOp' && plain.push(f), warn: (l, m) => warnings.push(`${l} ${m}`), evidence: (line, text) => ({ source: 'b/var/log/cni/cni.log', line, text: text.length > 1000 ? `${text.slice(0, 1000)}…` : text }) };
    feed(new LineSplitter(cni.open(ctx), DEFAULT_LIMITS.maxLineBytes, () => {}));
    const expected = JSON.stringify(plain.facts());
    // The containers released cleanly and dropped, as sorted ids: each thread lists its own.
    const releasedIds = (facts: Fact[]) =>
      facts.flatMap((f) => (f.kind === 'cniReleased' ? [...f.released.runs.flatMap((run) => Array.from(run, String)), ...f.released.others] : [])).sort();
    const expectedReleased = releasedIds(plain.released('b/var/log/cni/cni.log'));
    expect(expectedReleased.length).toBeGreaterThan(10);
    const ops = (facts: Fact[]) => JSON.stringify(facts.filter((f) => f.kind === 'cniOp'));
    const read = (shard?: { count: number; from: number; to: number }) => {
      const diagnostics: Diagnostic[] = [];
      const e = entryParsing('b', { path }, DEFAULT_LIMITS, diagnostics, false);
      feed(e.splitter(e.openParser(cni, { ...e.ctxFor(path, undefined), shard })));
      return { ...e, diagnostics };
    };
    // One thread, lines kept as evidence and read again at the end.
    const one = read();
    const oneFacts = one.kept().facts;
    expect(ops(oneFacts)).toBe(expected);
    expect(releasedIds(oneFacts)).toEqual(expectedReleased);
    // Two threads, split by container, merged.
    const [a, b] = [read({ count: 3, from: 0, to: 1 }), read({ count: 3, from: 1, to: 3 })]; // as the main thread and the helper split it
    const facts = (x: typeof a) => x.ledger.facts().length;
    expect(facts(a)).toBeGreaterThan(100);
    expect(facts(b)).toBeGreaterThan(100);
    a.ledger.absorb(structuredClone(b.ledger.state()));
    a.absorbWarnings(structuredClone(b.warnings));
    const merged = a.kept().facts;
    expect(ops(merged)).toBe(expected);
    expect(releasedIds(merged)).toEqual(expectedReleased);
    expect(a.diagnostics).toEqual(one.diagnostics);
    // As the threads share it: the main thread splits the lines and hands the helper its own, with their numbers.
    const { ShardRouter, readLines, LINE_ASK, LINE_IN_EXTRA } = await import('../src/engine/helper.js');
    const [main, helper] = [0, 1].map(() => {
      const diagnostics: Diagnostic[] = [];
      return { ...entryParsing('b', { path }, DEFAULT_LIMITS, diagnostics, false), diagnostics };
    });
    const [mine, theirs] = [{ count: 5, from: 0, to: 2 }, { count: 5, from: 2, to: 5 }];
    const helperSink = helper.openParser(cni, { ...helper.ctxFor(path, undefined), shard: theirs });
    const router = new ShardRouter(main.openParser(cni, { ...main.ctxFor(path, undefined), shard: mine }), (buf, from, to) => cni.shardOfLine!(buf, from, to, 5), mine);
    const splitter = main.splitter(router);
    const seen = { lines: 0, carried: 0, asked: 0 };
    const handOver = () => {
      const batch = router.take();
      if (!batch) return;
      const { spans } = batch.lines;
      for (let k = 0; k < spans.length; k += 4) {
        seen.lines++;
        if (spans[k] & LINE_IN_EXTRA) seen.carried++;
        if (spans[k] & LINE_ASK) seen.asked++;
      }
      readLines(structuredClone(batch.lines, { transfer: batch.transfer }), helperSink);
    };
    for (let i = 0; i < data.length; i += 65536) {
      const chunk = data.subarray(i, i + 65536);
      router.reading(chunk);
      splitter.push(chunk);
      handOver();
    }
    splitter.end();
    handOver();
    helperSink.end();
    // The helper got about its share of the lines, some carried over a chunk's end, some whose container its bytes hide.
    expect(seen.lines).toBeGreaterThan(30_000 * 0.5);
    expect(seen.lines).toBeLessThan(30_000 * 0.7);
    expect(seen.carried).toBeGreaterThan(5);
    expect(seen.asked).toBeGreaterThan(5);
    main.ledger.absorb(structuredClone(helper.ledger.state()));
    main.absorbWarnings(structuredClone(helper.warnings));
    const said = new Set(main.diagnostics.map((d) => `${d.level}\0${d.source}\0${d.message}`));
    main.diagnostics.push(...helper.diagnostics.filter((d) => !said.has(`${d.level}\0${d.source}\0${d.message}`)));
    const routed = main.kept().facts;
    expect(ops(routed)).toBe(expected);
    expect(releasedIds(routed)).toEqual(expectedReleased);
    expect(main.diagnostics).toEqual(one.diagnostics);
    // Sanity of the sample itself: IPs changed hands, some claims were compacted, some lines were cut.
    const kept = JSON.parse(expected) as { ev: { text: string } }[];
    expect(kept.some((f) => f.ev.text.startsWith('('))).toBe(true);
    expect(kept.some((f) => f.ev.text.endsWith('…'))).toBe(true);
    expect(kept.some((f) => /[^\x00-\x7f]/.test(f.ev.text) && !f.ev.text.startsWith('('))).toBe(true); // kept as UTF-8 bytes, read back
  });

  it('refuses to merge ledgers that both read one container', async () => {
    const { CniLedger } = await import('../src/model/ledger.js');
    const op = { kind: 'cniOp' as const, op: 'ADD' as const, containerId: 'a'.repeat(64), ips: ['10.0.0.1'], at: { kind: 'exact' as const, utc: 0 }, ev: { source: 's', line: 1, text: 'x' } };
    const [x, y] = [new CniLedger(false), new CniLedger(false)];
    x.push(op);
    y.push({ ...op, ev: { ...op.ev, line: 2 } });
    expect(() => x.absorb(y.state())).toThrow(/overlap on container aaaaaaaaaaaa/);
  });
});

describe('warnings per file', () => {
  it('lists the first lines of each message and counts the rest, so a hostile file costs a few warnings', async () => {
    const bad = (i: number) => `I0301 10:00:00.${String(i).padStart(6, '0')}   1 server.go:81] ADD p_ns, ${String(i).padStart(64, 'a')}, /proc/1/ns/net, K8S_POD_NAME=p ;, data {"ip":"1.2.3.4x",}, err <nil>`;
    const { diagnostics } = await parseText('var/log/cni/cni.log', `${Array.from({ length: 10 }, (_, i) => bad(i + 1)).join('\n')}\n`);
    expect(diagnostics.map((d) => [d.source, d.message])).toEqual([
      ['test/var/log/cni/cni.log:1', 'CNI result is not valid JSON'],
      ['test/var/log/cni/cni.log:2', 'CNI result is not valid JSON'],
      ['test/var/log/cni/cni.log:3', 'CNI result is not valid JSON'],
      ['test/var/log/cni/cni.log', 'CNI result is not valid JSON (on 7 more lines of this file besides the 3 listed)'],
    ]);
  });
});

describe('big result lists', () => {
  it('keeps 200,000 findings from one rule (push(...list) would overflow the stack)', async () => {
    const { analyse } = await import('../src/engine/analyse.js');
    const { defineRule } = await import('../src/engine/rule.js');
    const many = defineRule({
      id: 'many', severity: 'info', summary: 'test', needs: [],
      explain: { detects: '', matters: '', fix: '', reference: '' },
      evaluate: (_run, hosts) => Array.from({ length: 200_000 }, (_, i) => ({ rule: 'many', severity: 'info' as const, host: hosts[0].name, title: `t${i}`, detail: '', ips: [], containers: [], netns: [], pinnedBy: [], evidence: [], remediation: [] })),
    });
    const a = await analyse(['samples/healthy-node/worker-7.tar.gz'], { rules: [many] });
    expect(a.diagnostics.filter((d) => d.source === 'rule many')).toEqual([]);
    expect(a.findings).toHaveLength(200_000);
  });
});

describe('reports that show no timeline', () => {
  it('build no events, and find exactly what a run with events finds', async () => {
    const { analyse } = await import('../src/engine/analyse.js');
    const { readdirSync } = await import('node:fs');
    const dir = 'samples/seed-incident';
    const bundles = readdirSync(dir).filter((f) => !f.endsWith('.json') && !f.endsWith('.md')).map((f) => `${dir}/${f}`);
    const [withEvents, without] = [await analyse(bundles, { jobs: 1 }), await analyse(bundles, { jobs: 1, events: false })];
    expect(withEvents.hosts.some((h) => h.events.some((e) => e.kind === 'cni:add'))).toBe(true);
    expect(without.hosts.every((h) => h.events.length === 0)).toBe(true);
    expect(JSON.stringify(without.findings)).toBe(JSON.stringify(withEvents.findings));
    expect(without.findings.length).toBeGreaterThan(0);
  });
});
