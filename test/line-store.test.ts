import { describe, expect, it } from 'vitest';
import type { Evidence, Fact, Stamp } from '../src/model/facts.js';
import { CniLedger } from '../src/model/ledger.js';
import { FULL, LineStore, NONE } from '../src/model/line-store.js';
import { collectGarbage } from '../src/engine/heap.js';

type CniFact = Extract<Fact, { kind: 'cniOp' }>;
const fact = (line: number, at: Stamp, text = `line ${line}`): CniFact => ({ kind: 'cniOp', op: 'ADD', containerId: 'c', ips: [], at, ev: { source: 's', line, text } });

describe('line store', () => {
  const stamps: Stamp[] = [
    { kind: 'local', month: 2, day: 29, hour: 23, minute: 59, second: 60, millis: 999 },
    { kind: 'local', month: 1, day: 1, hour: 0, minute: 0, second: 0, millis: 0 },
    { kind: 'local', year: 2024, month: 12, day: 31, hour: 7, minute: 5, second: 3, millis: 120 },
    { kind: 'local', year: 0, month: 6, day: 15, hour: 12, minute: 30, second: 30, millis: 500 },
    { kind: 'local', month: 3, day: 1, hour: 10, minute: 0, second: 0, millis: 1, zone: 'Europe/Berlin' },
    { kind: 'local', year: 2026, month: 3, day: 1, hour: 10, minute: 0, second: 0, millis: 1, zone: 'UTC+8' },
    { kind: 'exact', utc: 1_764_000_000_123 },
    { kind: 'exact', utc: -5 },
  ];

  it('gives back every kept line and time exactly, keys in the order Stamp declares them', () => {
    const store = new LineStore<CniFact>(4, 64);
    const got: number[] = [];
    stamps.forEach((at, i) => {
      let r = store.add(i + 1, fact(i + 1, at), `text ${i} ü €`);
      if (r === FULL) {
        store.compact((move) => got.forEach((g, k) => (got[k] = move(g, true))), 1, 64);
        r = store.add(i + 1, fact(i + 1, at), `text ${i} ü €`);
      }
      got.push(r);
    });
    got.forEach((r, i) => {
      expect(JSON.stringify(store.stampOf(r))).toBe(JSON.stringify(stamps[i]));
      expect(store.textOf(r)).toBe(`text ${i} ü €`);
      expect(store.lineOf(r)).toBe(i + 1);
      expect(store.factOf(r)).toBeUndefined(); // kept as text, not as the fact
    });
  });

  it('keeps the fact when the time does not pack (a hostile or odd value), and always when no text is given', () => {
    const store = new LineStore<CniFact>(64, 4096);
    const odd: Stamp[] = [
      { kind: 'local', month: 13, day: 1, hour: 0, minute: 0, second: 0, millis: 0 },
      { kind: 'local', month: 1, day: 1, hour: 0, minute: 0, second: 0, millis: 0.5 },
      { kind: 'local', year: 10_000, month: 1, day: 1, hour: 0, minute: 0, second: 0, millis: 0 },
      { kind: 'exact', utc: Number.NaN },
    ];
    for (const at of odd) {
      const f = fact(1, at);
      const r = store.add(1, f, 'text');
      expect(store.factOf(r)).toBe(f);
      expect(store.stampOf(r)).toBe(at);
    }
    const f = fact(2, stamps[0]);
    expect(store.factOf(store.add(2, f))).toBe(f);
  });

  it('keeps texts of its owner beside lines, through compaction, and says when two more records fit', () => {
    const store = new LineStore<CniFact>(4, 64);
    expect(store.hasRoom(4, 21)).toBe(true); // 21 UTF-16 units may take 63 bytes
    expect(store.hasRoom(4, 22)).toBe(false);
    expect(store.hasRoom(5, 0)).toBe(false);
    const refs = [store.addText('holder ü 1'), store.add(7, fact(7, stamps[6]), 'line 7'), store.addText('')];
    expect(refs).not.toContain(FULL);
    expect(store.addText('x'.repeat(22))).toBe(FULL); // no room for its bytes
    expect([store.textOf(refs[0]), store.textOf(refs[1]), store.textOf(refs[2]), store.lineOf(refs[1])]).toEqual(['holder ü 1', 'line 7', '', 7]);
    // The line is dropped; the texts stay, renumbered, in order.
    store.compact((move) => {
      refs[0] = move(refs[0], true);
      refs[2] = move(refs[2], true);
    }, 1, 64);
    expect(store.count).toBe(2);
    expect([store.textOf(refs[0]), store.textOf(refs[2])]).toEqual(['holder ü 1', '']);
  });

  it('holds nothing until the first line (every file has a ledger), then grows', () => {
    const store = new LineStore<CniFact>();
    expect(store.add(1, fact(1, stamps[0]), 'x')).toBe(FULL);
    store.compact(() => {}, 1, 16);
    expect(store.textOf(store.add(1, fact(1, stamps[0]), 'x'))).toBe('x');
  });

  it('refuses to grow its text past its limit, with a message, leaving what it kept readable', () => {
    const store = new LineStore<CniFact>(16, 1024, 1 << 17);
    const kept: number[] = [];
    const keepAll = (move: (r: number, t: boolean) => number) => kept.forEach((r, k) => (kept[k] = move(r, true)));
    expect(() => {
      for (let i = 0; i < 200; i++) {
        let r = store.add(i, fact(i, stamps[0]), `line ${i} ${'x'.repeat(990)}`);
        if (r === FULL) {
          store.compact(keepAll, 1, 3000);
          r = store.add(i, fact(i, stamps[0]), `line ${i} ${'x'.repeat(990)}`);
        }
        kept.push(r);
      }
    }).toThrow(/outgrew its 131072 byte store \(\d+ lines kept\)/);
    expect(kept.length).toBeGreaterThan(50);
    kept.forEach((r, i) => expect(store.textOf(r)).toBe(`line ${i} ${'x'.repeat(990)}`));
  });

  it('keeps past 64 zones as facts, so that a log with a new zone per line cannot grow the zone table', () => {
    const store = new LineStore<CniFact>(256, 1 << 16);
    const rs = Array.from({ length: 70 }, (_, i) => store.add(i, fact(i, { kind: 'local', month: 1, day: 1, hour: 0, minute: 0, second: 0, millis: 0, zone: `Zone/${i}` }), 'x'));
    expect(rs.slice(0, 64).every((r) => store.factOf(r) === undefined)).toBe(true);
    expect(rs.slice(64).every((r) => store.factOf(r) !== undefined)).toBe(true);
    expect(rs.map((r) => (store.stampOf(r) as { zone?: string }).zone)).toEqual(Array.from({ length: 70 }, (_, i) => `Zone/${i}`));
  });

  it('compacts to the records still referred to, keeping text only where asked, and renumbers them consistently', () => {
    const store = new LineStore<CniFact>(8, 256);
    const refs = { a: NONE, b: NONE, c: NONE, d: NONE };
    let line = 0;
    const add = (text: string) => {
      const r = store.add(++line, fact(line, stamps[0]), text);
      expect(r).not.toBe(FULL);
      return r;
    };
    refs.a = add('alpha');
    add('dropped 1');
    refs.b = add('bravo');
    add('dropped 2');
    refs.c = add('charlie');
    const visit = (move: (r: number, t: boolean) => number) => {
      refs.a = move(refs.a, true);
      refs.b = move(refs.b, false); // a summary: line and time only
      refs.c = move(refs.c, true);
      refs.d = move(refs.d, true); // NONE stays NONE
      refs.a = move(refs.a, true); // referred to twice: one record
    };
    store.compact(visit, 1, 0);
    expect(store.count).toBe(3);
    expect([store.textOf(refs.a), store.textOf(refs.b), store.textOf(refs.c)]).toEqual(['alpha', undefined, 'charlie']);
    expect([store.lineOf(refs.a), store.lineOf(refs.b), store.lineOf(refs.c), refs.d]).toEqual([1, 3, 5, NONE]);
    // It grows to keep three quarters free, and room is made for what is asked.
    store.compact(visit, 100, 10_000);
    for (let i = 0; i < 100; i++) expect(store.add(100 + i, fact(100 + i, stamps[1]), 'y'.repeat(30))).not.toBe(FULL);
    expect(store.textOf(refs.c)).toBe('charlie');
  });

  it('appends another store (another thread’s), zones and facts included', () => {
    const [x, y] = [new LineStore<CniFact>(64, 4096), new LineStore<CniFact>(64, 4096)];
    const rx = x.add(1, fact(1, stamps[4]), 'from x');
    const f = fact(3, stamps[0], 'cut…');
    const ry = [y.add(2, fact(2, stamps[5]), 'from y'), y.add(3, f), y.add(4, fact(4, stamps[4]), 'zone again')];
    const base = x.append(structuredClone(y.state()));
    expect([x.textOf(rx), x.textOf(ry[0] + base), x.factOf(ry[1] + base)?.ev.text, x.textOf(ry[2] + base)]).toEqual(['from x', 'from y', 'cut…', 'zone again']);
    expect([x.stampOf(ry[0] + base), x.stampOf(ry[2] + base)]).toEqual([stamps[5], stamps[4]]);
  });
});

describe('CNI ledger memory', () => {
  it('holds lines in proportion to containers and IPs, not to the lines read', () => {
    const held = (cycles: number) => {
      const ledger = new CniLedger(false);
      ledger.keepLinesOnly((ev: Evidence) => ({ kind: 'cniOp', op: 'ADD', containerId: 'x', ips: [], at: stamps0, ev }));
      let line = 0;
      for (let i = 0; i < cycles; i++)
        for (let c = 0; c < 50; c++) {
          const id = `${String(c).padStart(2, '0')}${'f'.repeat(62)}`;
          for (const op of ['ADD', 'DEL'] as const) {
            line++;
            ledger.push({ kind: 'cniOp', op, containerId: id, ips: op === 'ADD' ? [`10.0.0.${c}`] : [], at: stamps0, ev: { source: 'cni.log', line, text: `${op} ${id} ${line}` } });
          }
        }
      return ledger.held();
    };
    const stamps0: Stamp = { kind: 'local', month: 1, day: 1, hour: 0, minute: 0, second: 0, millis: 0 };
    const few = held(20);
    expect(few).toBeGreaterThan(50); // it holds the containers' last lines until released
    expect(held(400)).toBe(few); // twenty times the lines, the same records
    expect(few).toBeLessThanOrEqual(50 * 3 * 6); // per IP its last claims' ADD, DEL and holder, at most
  });
});

describe('CNI ledger on a node that churns pods', () => {
  const stamps0: Stamp = { kind: 'local', month: 1, day: 1, hour: 0, minute: 0, second: 0, millis: 0 };
  const ledgerOf = () => {
    const ledger = new CniLedger(false);
    ledger.keepLinesOnly((ev: Evidence) => ({ kind: 'cniOp', op: ev.text.startsWith('ADD') ? 'ADD' : 'DEL', containerId: ev.text.split(' ')[1], ips: [], at: stamps0, ev }));
    return ledger;
  };
  const idOf = (k: number) => k.toString(16).padStart(12, '0') + 'e'.repeat(52);

  it('holds lines in proportion to IPs, not to the sandboxes that passed through them', () => {
    // Every pod is a new sandbox with a new id, as on a real node: ADD, DEL, never seen again.
    const held = (sandboxes: number) => {
      const ledger = ledgerOf();
      let line = 0;
      for (let k = 0; k < sandboxes; k++)
        for (const op of ['ADD', 'DEL'] as const) {
          line++;
          ledger.push({ kind: 'cniOp', op, containerId: idOf(k), ips: op === 'ADD' ? [`10.0.0.${k % 50}`] : [], at: stamps0, ev: { source: 'cni.log', line, text: `${op} ${idOf(k)} ${line}` } });
        }
      return ledger.held();
    };
    const few = held(1000);
    expect(few).toBeLessThanOrEqual(50 * 3 * 6); // per IP its last claims' ADD, DEL and holder, at most
    expect(held(20000)).toBe(few);
  });

  it('tells who held each older claim exactly, whatever its pod, namespace and netns hold', () => {
    const ledger = ledgerOf();
    const holders = [
      { pod: 'web-1', podNamespace: 'default', netnsPath: '/var/run/netns/cni-1' },
      { pod: undefined, podNamespace: undefined, netnsPath: undefined },
      { pod: 'a,b;3,4', podNamespace: '-', netnsPath: '/proc/12/ns/net' },
      { pod: 'données-é€', podNamespace: '', netnsPath: '12,-;' },
      { pod: '', podNamespace: 'kube-system', netnsPath: undefined },
      { pod: 'p', podNamespace: 'n', netnsPath: '/run/netns/x' },
      { pod: 'q', podNamespace: 'n', netnsPath: '/run/netns/y' },
      { pod: 'r', podNamespace: 'n', netnsPath: '/run/netns/z' },
    ];
    holders.forEach((h, k) => {
      for (const op of ['ADD', 'DEL'] as const)
        ledger.push({ kind: 'cniOp', op, containerId: idOf(k), ...h, ips: op === 'ADD' ? ['10.1.0.1'] : [], at: stamps0, ev: { source: 'cni.log', line: 2 * k + (op === 'ADD' ? 1 : 2), text: `${op} ${idOf(k)} x` } });
    });
    // Of 8 claims the ring keeps 6; the oldest 4 of those are summaries, told from their holders.
    const summaries = ledger.facts().filter((f) => f.op === 'ADD' && f.ev.text.startsWith('('));
    expect(summaries.map((f) => f.ev.line)).toEqual([5, 7, 9, 11]);
    expect(summaries.map((f) => ({ containerId: f.containerId, pod: f.pod, podNamespace: f.podNamespace, netnsPath: f.netnsPath }))).toEqual(
      [2, 3, 4, 5].map((k) => ({ containerId: idOf(k).slice(0, 12), ...holders[k] })),
    );
  });

  it('takes a DEL repeated after a clean release as nothing new: no orphan DEL, no failure', () => {
    const ledger = new CniLedger(false); // keeping facts, errors and all
    const id = idOf(7);
    const push = (line: number, op: 'ADD' | 'DEL', err?: string) => ledger.push({ kind: 'cniOp', op, containerId: id, ips: op === 'ADD' ? ['10.0.0.7'] : [], err, at: stamps0, ev: { source: 'cni.log', line, text: `${op} ${id} ${line}` } });
    push(1, 'ADD');
    push(2, 'DEL');
    push(3, 'DEL');
    push(4, 'DEL', 'failed to Statfs "/proc/99/ns/net": no such file or directory');
    expect(ledger.facts().map((f) => [f.op, f.ev.line])).toEqual([['ADD', 1], ['DEL', 2]]);
    // A new ADD of the same id (set up again) is told again, with what follows it.
    push(5, 'ADD');
    push(6, 'DEL', 'netns busy');
    expect(ledger.facts().map((f) => [f.op, f.ev.line, f.err])).toEqual([['ADD', 1, undefined], ['DEL', 2, undefined], ['ADD', 5, undefined], ['DEL', 6, 'netns busy']]);
  });
});

describe('IdSet', () => {
  it('holds short ids as numbers, grows, and keeps other ids apart', async () => {
    const { IdSet } = await import('../src/model/id-set.js');
    const set = new IdSet();
    const ids = Array.from({ length: 5000 }, (_, k) => (((k + 1) * 2654435761) % 2 ** 48).toString(16).padStart(12, '0'));
    for (const id of ids.slice(0, 2500)) set.add(id);
    for (const id of ids.slice(0, 2500)) set.add(id); // twice: counted once
    expect(set.size).toBe(2500);
    expect(ids.slice(0, 2500).every((id) => set.has(id))).toBe(true);
    expect(ids.slice(2500).some((id) => set.has(id))).toBe(false);
    expect([set.has('ffffffffffff'), set.has('000000000000')]).toEqual([false, false]);
    set.add('ffffffffffff');
    set.add('000000000000');
    set.add('ABCDEF012345'); // not lowercase hex: a plain Set
    set.add('short');
    expect([set.has('ffffffffffff'), set.has('000000000000'), set.has('ABCDEF012345'), set.has('abcdef012345'), set.has('short'), set.has('shor')]).toEqual([true, true, true, false, true, false]);
    expect(set.size).toBe(2504);
  });

  it('finds ids in its recent table and in its sorted runs alike, and gives back exactly what it holds', async () => {
    const { IdSet, idValue } = await import('../src/model/id-set.js');
    const set = new IdSet();
    const edges = ['000000000000', '000000000001', 'ffffffffffff', '000100000000', '0001deadbeef', '0002deadbeef'];
    for (const id of edges) set.add(id);
    // Enough ids to fill the recent table a few times over and merge runs; a pseudo-random walk through the 48-bit space.
    const many: string[] = [];
    for (let k = 0, x = 12345; k < 200_000; k++) {
      x = (x * 48271) % 2147483647;
      many.push(((x * 131071 + k) % 2 ** 48).toString(16).padStart(12, '0'));
    }
    for (const id of many) set.add(id);
    const unique = new Set([...edges, ...many]);
    expect(set.size).toBe(unique.size);
    // The oldest ids are in runs by now, the newest in the recent table: both are found, and nothing else is.
    expect([...edges, ...many].every((id) => set.has(id))).toBe(true);
    const absent = many.map((id) => `${id.slice(0, 11)}${id[11] === 'a' ? 'b' : 'a'}`).filter((id) => !unique.has(id));
    expect(absent.length).toBeGreaterThan(100_000);
    expect(absent.some((id) => set.has(id))).toBe(false);
    expect(['000300000000', '0003deadbeef', '000000000002', 'fffeffffffff'].some((id) => set.has(id))).toBe(false);
    const { runs } = set.values();
    expect(runs.length).toBeGreaterThan(1);
    for (const run of runs) expect([...run]).toEqual([...run].sort((a, b) => a - b)); // each run sorted: build.ts searches them
    expect(runs.flatMap((run) => [...run]).sort((a, b) => a - b)).toEqual([...unique].map(idValue).sort((a, b) => a - b));
    // Still a set once its values are taken, and the runs it gave are not changed by what it is given next.
    const copies = runs.map((run) => run.slice());
    set.add('abcabcabcabc');
    for (const id of many.slice(0, 70_000)) set.add(id);
    expect([set.has('abcabcabcabc'), set.has(many[0]), set.has(absent[0])]).toEqual([true, true, false]);
    expect(runs).toEqual(copies);
  });

  it('answers while still empty, and with only ids that are not short hex', async () => {
    const { IdSet } = await import('../src/model/id-set.js');
    const empty = new IdSet();
    expect([empty.has('abcdef012345'), empty.has('x'), empty.size]).toEqual([false, false, 0]);
    expect(empty.values()).toEqual({ runs: [], others: [] });
    const others = new IdSet();
    others.add('not-hex');
    expect([others.has('not-hex'), others.has('abcdef012345'), others.values().runs.length]).toEqual([true, false, 0]);
    others.add('abcdef012345');
    expect([others.has('abcdef012345'), others.size]).toEqual([true, 2]);
  });
});

describe('reading one CNI log', () => {
  it('releases the ledger once the file\'s facts are taken', async () => {
    const { entryParsing } = await import('../src/engine/analyse.js');
    const { DEFAULT_LIMITS } = await import('../src/bundle/entry.js');
    const cni = (await import('../parsers/cni-glog.js')).default;
    const { messyCniLog } = await import('./cni-log.js');
    const e = entryParsing('b', { path: 'var/log/cni/cni.log' }, DEFAULT_LIMITS, [], false);
    const sink = e.splitter(e.openParser(cni, e.ctxFor('var/log/cni/cni.log', undefined)));
    sink.push(Buffer.from(messyCniLog(2000)));
    sink.end();
    expect(e.ledger.held()).toBeGreaterThan(100);
    expect(e.kept().facts.length).toBeGreaterThan(100);
    expect(e.ledger.held()).toBe(0);
  });
});

describe('flat strings', () => {
  it('gives the same text, whatever its length and however it was built', async () => {
    const { flat } = await import('../src/util.js');
    const pieces = ['CNI ADD ', 'abcdef012345', ' (pod ', 'bench/job-1', ')', ' ip ', '10.64.0.1'];
    const built = pieces.reduce((a, b) => `${a}${b}`);
    expect(flat(built)).toBe(pieces.join(''));
    expect(flat('short')).toBe('short');
    expect(flat('')).toBe('');
    expect(flat(undefined)).toBeUndefined();
    const line = `I0101 ${'x'.repeat(500)}`;
    expect(flat(line.slice(6, 30))).toBe('x'.repeat(24));
  });
});

describe('a full collection once the facts are dead', () => {
  it('collects what nothing refers to any more, at once', async () => {
    const make = () => new WeakRef({ facts: Array.from({ length: 1000 }, (_, i) => ({ line: i })) });
    const ref = make();
    await new Promise((r) => setImmediate(r)); // a WeakRef's target is kept until the current job ends
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
    collectGarbage(); // and again: the collector is found once
  });
});
