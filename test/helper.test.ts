// The helper thread's failure paths, with real worker threads that fail: the main thread must say what happened and
// what to do, never hang waiting for a reply that will not come.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/bundle/entry.js';
import { ParseHelper } from '../src/engine/helper.js';

const entry = { path: 'var/log/cni/cni.log', size: 64 << 20, mtime: undefined };
const shard = { count: 2, from: 1, to: 2 };

async function feed(worker: string) {
  const helper = new ParseHelper(new URL(`./fixtures/${worker}`, import.meta.url));
  const theirs = helper.shard('node-a', entry, 'cni-glog', undefined, DEFAULT_LIMITS, shard);
  let pushError: unknown;
  try {
    // Keep pushing as the main thread would: once the failure is known, push refuses too.
    for (let i = 0; i < 50; i++) {
      const chunk = new Uint8Array(Buffer.from(`I0101 00:00:00.000000 1 x.go:1] ADD pod_ns, ${'a'.repeat(64)}, /proc/1/ns/net, K8S_POD_NAME=p`));
      await theirs.push({ lines: { chunk, spans: Float64Array.of(0, 0, chunk.length, i + 1) }, transfer: [] });
      await new Promise((r) => setTimeout(r, 5));
    }
  } catch (e) {
    pushError = e;
  }
  const endError = await theirs.end().then(
    () => undefined,
    (e: unknown) => e,
  );
  await helper.close();
  return { pushError, endError };
}

describe('the helper thread failing', () => {
  it('throwing: its result and further chunks are refused with the cause and the way around it (--jobs 1)', async () => {
    const { pushError, endError } = await feed('failing-helper.mjs').catch((e: unknown) => ({ pushError: e, endError: e }));
    const said = String((endError ?? pushError) as Error);
    expect(said).toMatch(/helper thread reading part of a big CNI log failed \(boom while reading a chunk\)/);
    expect(said).toMatch(/--jobs 1/);
    expect(String(pushError)).toMatch(/boom while reading a chunk/);
  });

  it('throwing after the last chunk, while the main thread waits for its result: that wait ends with the cause', async () => {
    const { pushError, endError } = await feed('failing-at-end-helper.mjs');
    expect(pushError).toBeUndefined();
    expect(String(endError)).toMatch(/helper thread reading part of a big CNI log failed \(boom while putting the result together\)\. Run again with --jobs 1/);
  });

  it('exiting: said with its exit code', async () => {
    const { pushError, endError } = await feed('exiting-helper.mjs').catch((e: unknown) => ({ pushError: e, endError: e }));
    expect(String(endError ?? pushError)).toMatch(/helper thread reading part of a big CNI log stopped \(exit 3\)\. Run again with --jobs 1/);
  });
});

describe('lines handed to the helper', () => {
  it('carries lines that are not in the chunk, an empty one alone too (a blank CRLF line split at a chunk\'s end), in order', async () => {
    const { ShardRouter, readLines } = await import('../src/engine/helper.js');
    const got: [string, number][] = [];
    const helperSink = { line: (t: string, no: number) => got.push([t, no]), end() {} };
    // Shard by the line's first byte: "a" lines are the main thread's (shard 0), "b" lines the helper's, others unknown;
    // the parser has no prefilter, so a line of unknown shard goes to both.
    const mine = { line() {}, end() {} };
    const router = new ShardRouter(mine, (buf, from, to) => (to > from ? (buf[from] === 97 ? 0 : buf[from] === 98 ? 1 : -1) : -1), { count: 2, from: 0, to: 1 });
    const handOver = () => {
      const batch = router.take()!;
      expect(router.take()).toBeUndefined();
      readLines(structuredClone(batch.lines, { transfer: batch.transfer }), helperSink);
    };
    const first = Buffer.from('a1\nb2\nb3\n');
    router.reading(first);
    const carried = Buffer.from('b0 carried\r');
    expect(router.accepts(carried, 0, carried.length - 1, 1)).toBe(false); // joined from the last chunk: not in this one
    expect(router.accepts(first, 0, 2, 2)).toBe(true);
    expect(router.accepts(first, 3, 5, 3)).toBe(false);
    expect(router.accepts(first, 6, 8, 4)).toBe(false);
    handOver();
    const second = Buffer.from('\nb6\n');
    router.reading(second);
    expect(router.accepts(Buffer.from('\r'), 0, 0, 5)).toBe(true); // a blank line, its CR stripped: empty, shard unknown
    expect(router.accepts(second, 1, 3, 6)).toBe(false);
    handOver();
    expect(got).toEqual([['b0 carried', 1], ['b2', 3], ['b3', 4], ['', 5], ['b6', 6]]);
  });

  it('keeps a line of unknown shard that the prefilter refuses: neither thread reads it', async () => {
    const { ShardRouter } = await import('../src/engine/helper.js');
    const mine = { accepts: (buf: Buffer, from: number, to: number) => to - from > 3, line() {}, end() {} };
    const router = new ShardRouter(mine, () => -1, { count: 2, from: 0, to: 1 });
    const chunk = Buffer.from('\n\nx\nwanted\n');
    router.reading(chunk);
    expect([router.accepts(chunk, 0, 0, 1), router.accepts(chunk, 1, 1, 2), router.accepts(chunk, 2, 3, 3), router.accepts(chunk, 4, 10, 4)]).toEqual([false, false, false, true]);
    expect(Array.from(router.take()!.lines.spans)).toEqual([2, 4, 10, 4]); // the one wanted, asked again there (LINE_ASK)
  });
});
