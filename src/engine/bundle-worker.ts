// Reads a bundle off the main thread: `analyse` hands every bundle after the first to one of these, and, for a big
// single bundle, runs the helper pass of a two-pass read here (see readBundle).
import { parentPort, workerData } from 'node:worker_threads';
import { BundleError, type BundleLimits } from '../bundle/entry.js';
import { readBundle, readBundlePass } from './analyse.js';

const { path, limits, deadline, keepAllEvents, helper } = workerData as { path: string; limits: BundleLimits; deadline: number; keepAllEvents: boolean; helper?: boolean };
const work = helper ? readBundlePass(path, limits, deadline, keepAllEvents, undefined, 'helper').then((r) => ('results' in r ? r.results : [])) : readBundle(path, limits, deadline, keepAllEvents);
work.then(
  (result) => parentPort!.postMessage({ ok: true, result }),
  (e: unknown) => parentPort!.postMessage({ ok: false, message: e instanceof Error ? (e.stack ?? e.message) : String(e), bundleError: e instanceof BundleError }),
);
