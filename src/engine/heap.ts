import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collector: (() => void) | null | undefined;

/**
 * A full garbage collection, now. V8 sizes the old generation from what was alive at its last full collection: on a
 * busy node that came while a CNI log's facts, its ledger and the model being built were all alive, so the heap then
 * grew to twice that before V8 looked again, through the rules and the report. Called once those facts are dead, it
 * sizes the heap from the model alone (bench scale 4: peak RSS 483 -> ~400 MB; a few tens of ms).
 *
 * `gc` is only given to contexts made after --expose-gc is set; without it (an embedder that forbids flag changes),
 * this does nothing.
 */
export function collectGarbage(): void {
  if (collector === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      collector = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      collector = null;
    }
  }
  collector?.();
}
