// Reads one bundle off the main thread: `analyse` hands every bundle after the first to one of these.
import { parentPort, workerData } from 'node:worker_threads';
import { BundleError, type BundleLimits } from '../bundle/entry.js';
import { readBundle } from './analyse.js';

const { path, limits, deadline, keepAllEvents } = workerData as { path: string; limits: BundleLimits; deadline: number; keepAllEvents: boolean };
readBundle(path, limits, deadline, keepAllEvents).then(
  (result) => parentPort!.postMessage({ ok: true, result }),
  (e: unknown) => parentPort!.postMessage({ ok: false, message: e instanceof Error ? (e.stack ?? e.message) : String(e), bundleError: e instanceof BundleError }),
);
