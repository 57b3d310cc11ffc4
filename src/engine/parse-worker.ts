// The helper thread of one bundle (see helper.ts): reads its share of a big CNI log, as the main thread reads the rest.
import { parentPort } from 'node:worker_threads';
import type { Diagnostic } from '../model/host.js';
import type { LineSink } from '../recognise/parser.js';
import { parsers } from '../../parsers/index.js';
import { entryParsing } from './analyse.js';
import { type HelperReply, type HelperRequest, type HelperResult, linesBytes, readLines } from './helper.js';

const port = parentPort!;
const reply = (m: HelperReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const shards = new Map<number, { sink: LineSink; finish: () => HelperResult }>();

function handle(m: HelperRequest): void {
  if (m.type === 'shard') {
    const parser = parsers.find((p) => p.id === m.parserId);
    if (!parser) throw new Error(`no parser ${m.parserId}`);
    const diagnostics: Diagnostic[] = [];
    const { out, ledger, ctxFor, openParser, warnings } = entryParsing(m.bundle, m.entry, m.limits, diagnostics, false);
    out.parsers.add(parser.id);
    // Lines come split, and cut where too long, by the main thread, which says so.
    const sink = openParser(parser, { ...ctxFor(m.entry.path, m.command), shard: m.shard });
    shards.set(m.id, { sink, finish: () => ({ facts: out.facts, parsers: [...out.parsers], diagnostics, warnings, ledger: ledger.state() }) });
    return;
  }
  const s = shards.get(m.id);
  if (!s) return;
  if (m.type === 'lines') {
    readLines(m, s.sink);
    reply({ type: 'ack', bytes: linesBytes(m) });
    return;
  }
  s.sink.end();
  shards.delete(m.id);
  const result = s.finish();
  // The released ids' runs are moved, not copied (millions of ids on a busy node): this thread is done with them.
  reply({ type: 'done', id: m.id, result }, result.ledger.retired.flatMap((r) => r.runs.map((run) => run.buffer as ArrayBuffer)));
}

port.on('message', (m: HelperRequest) => {
  try {
    handle(m);
  } catch (e) {
    reply({ type: 'failed', id: m.id, message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
