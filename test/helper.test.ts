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
