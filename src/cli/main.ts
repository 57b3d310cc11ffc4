#!/bin/sh
//usr/bin/env true; exec /usr/bin/env MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" node --max-semi-space-size=4 --initial-heap-size=64 "$0" "$@"
// The line above is for sh, and a comment to JavaScript: run as a program (`forensics`, `npx forensics`), this file is
// started by sh, which starts node on it with the flags V8 reads only at start-up. --max-semi-space-size=4 caps the
// main thread's young generation at 12 MB, as READER_LIMITS does for the reading threads (engine/helper.ts): a million
// CNI lines grew it to V8's default 48 MB. Bench scale 1: peak RSS 284-320 MB -> 243-253 MB, time within noise (four
// runs each). `node dist/src/cli/main.js` still works, without these settings.
// --initial-heap-size=64: V8 starts a small heap's old generation near what is alive in it. Through a bundle's first
// files (docker inspect, mount tables, ns links) the live heap is 10-15 MB and grows by what each file leaves, so the
// main thread ran a full mark-compact every 20-40 ms: 16 in the 0.6 s of scale 1's mount tables, 21-29 in the run.
// Starting at 64 MB: 8-9 in the run, CPU 7.1 -> 6.6 s; scale 1 wall time 0.935-0.949 of before (paired medians of ten
// alternating runs, every pair faster or equal), peak RSS +22-25 MB (median 190 -> 218); scale 4 within noise.
// MALLOC_ARENA_MAX=2 (unless set): glibc gives every thread that allocates (the reading threads, libuv's pool, V8's
// helpers) an arena of its own, each keeping freed chunk memory. Bench scale 1, four alternating runs: peak RSS
// 244-273 MB -> 236-240 MB; scale 4, two: 519-522 -> 468-502 MB; time within noise. Other C libraries ignore it.
import { setFlagsFromString } from 'node:v8';
// V8 learns per object literal whether its objects live long, then allocates them straight in the old generation. The
// facts of ps, mounts and docker inspect are kept for good, so the literals they share with a CNI log's million lines
// were judged long-lived, and those lines' short-lived objects went to the old generation, each keeping young strings
// alive until a full GC. Bench scale 1: the main thread promoted 220 MB -> 87 MB; the report took 4.51 -> 4.23 s (best
// of 5). The flag only switches that heuristic off; it is read at each GC, so setting it here takes effect.
setFlagsFromString('--no-allocation-site-pretenuring');
import { once } from 'node:events';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BundleError, type BundleLimits } from '../bundle/entry.js';
import { type Progress, analyse } from '../engine/analyse.js';
import { type FailOn, filterFindings, reachesFailOn } from '../engine/filter.js';
import { expandBundleFolders, replay } from '../engine/replay.js';
import { renderHtml } from '../report/html.js';
import { ipStory } from '../report/ipfocus.js';
import { jsonChunks } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import { ndjsonLines, renderTimelineText } from '../report/timeline.js';
import { allEvents, filterEvents, parseWhen } from '../timeline/events.js';
import { isValidZone } from '../timeline/time.js';
import { TOOL } from '../version.js';
import { parsers } from '../../parsers/index.js';
import { rules } from '../../rules/index.js';
import { EXIT, UsageError } from './errors.js';
import { safeText } from '../report/escape.js';

const FORMATS = ['text', 'json', 'markdown', 'html'] as const;
const FAIL_ON = ['error', 'warning', 'info', 'none'] as const;

function colourWanted(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
}

/** A progress line on stderr while bundles are read, when stderr is a terminal; silent otherwise. */
function progressLine(bundles: string[]): { onProgress?: Progress; done(): void } {
  if (!process.stderr.isTTY) return { done() {} };
  let bytes = 0;
  let last = 0;
  let shown = false;
  return {
    onProgress(n, source, position) {
      bytes += n;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      shown = true;
      const file = safeText(source).replace(/\n/g, '\\n').slice(-60);
      // An archive says how far into it we are; a folder's total is not known without walking it first.
      const of = bundles.length === 1 && position && position.size > 0 ? ` ${Math.min(99, Math.floor((position.read() / position.size) * 100))}% of ${Math.round(position.size / 1e6)} MB,` : '';
      process.stderr.write(`\r\x1b[Kreading ${bundles.length > 1 ? `${bundles.length} bundles` : safeText(bundles[0] ?? '')}:${of} ${Math.round(bytes / 1e6)} MB uncompressed · ${file}`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

interface BundleArgs {
  bundles: string[];
  timezone?: string;
  year?: number;
  ip?: string;
  host?: string;
  container?: string;
  since?: string;
  until?: string;
  maxBundleBytes?: number;
  maxEntries?: number;
  maxLineBytes?: number;
  maxDocumentBytes?: number;
  timeLimit?: number;
  maxMemory?: number;
  jobs?: number;
}

/** Options shared by `report` and `timeline`: how to read the bundles and what to focus on. */
function bundleOptions<T>(y: Argv<T>) {
  return y
    .positional('bundles', { type: 'string', array: true, demandOption: true, describe: 'bundle folders or archives (a folder holding only archives is read as those archives)' })
    .option('timezone', { type: 'string', describe: 'zone for local times when the bundle has none (IANA name or UTC+8)' })
    .option('year', { type: 'number', describe: 'year for dates written without one (glog, syslog)' })
    .option('ip', { type: 'string', describe: 'focus on this IP: its story across hosts, and only findings about it' })
    .option('host', { type: 'string', describe: 'only this host' })
    .option('container', { type: 'string', describe: 'only this container (id prefix) or pod name' })
    .option('since', { type: 'string', describe: 'events from this time on (ISO 8601; UTC unless it has an offset)' })
    .option('until', { type: 'string', describe: 'events up to this time (ISO 8601)' })
    .option('max-bundle-bytes', { type: 'number', describe: 'stop reading a bundle past this many bytes once decompressed (default 16 GiB)' })
    .option('max-entries', { type: 'number', describe: 'stop reading a bundle past this many files (default 1,000,000)' })
    .option('max-line-bytes', { type: 'number', describe: 'cut longer lines (default 1 MiB)' })
    .option('max-document-bytes', { type: 'number', describe: 'skip larger JSON documents (default 256 MiB)' })
    .option('time-limit', { type: 'number', describe: 'seconds for reading all bundles; what was read by then is reported (default 900)' })
    .option('max-memory', { type: 'number', describe: 'MiB of memory (resident, all threads) past which a bundle stops being read; what was read is reported (default: none)' })
    .option('jobs', { alias: 'j', type: 'number', describe: 'threads (default: the cores). Several big bundles are read one per thread; one big bundle shares its big CNI logs with a second thread. 1 reads everything on one thread' });
}

async function analyseArgs(argv: BundleArgs, keepAllEvents = false, wantEvents = true) {
  if (argv.timezone && !isValidZone(argv.timezone)) throw new UsageError(`--timezone ${argv.timezone}: not a known zone. Use an IANA name such as Asia/Shanghai, or UTC+8.`);
  if (argv.year !== undefined && !(argv.year >= 1970 && argv.year <= 9999)) throw new UsageError(`--year ${argv.year}: give a four-digit year.`);
  const since = argv.since !== undefined ? parseWhen(argv.since) : undefined;
  const until = argv.until !== undefined ? parseWhen(argv.until) : undefined;
  if (argv.since !== undefined && since === undefined) throw new UsageError(`--since ${argv.since}: give an ISO 8601 time such as 2017-02-06 or 2017-02-06T12:00+08:00.`);
  if (argv.until !== undefined && until === undefined) throw new UsageError(`--until ${argv.until}: give an ISO 8601 time such as 2017-02-08 or 2017-02-08T18:00+08:00.`);
  const limits: Partial<BundleLimits> = {};
  // Each limit: its key, the option as given, the option's name, and the unit it is given in.
  const given = [
    ['maxBundleBytes', argv.maxBundleBytes, 'max-bundle-bytes', 1],
    ['maxEntries', argv.maxEntries, 'max-entries', 1],
    ['maxLineBytes', argv.maxLineBytes, 'max-line-bytes', 1],
    ['maxDocumentBytes', argv.maxDocumentBytes, 'max-document-bytes', 1],
    ['timeLimitMs', argv.timeLimit, 'time-limit', 1000],
    ['maxMemoryBytes', argv.maxMemory, 'max-memory', 2 ** 20],
  ] as const;
  for (const [key, value, option, unit] of given) {
    if (value === undefined) continue;
    if (!(value > 0)) throw new UsageError(`--${option} must be a positive number.`);
    limits[key] = value * unit;
  }
  if (argv.jobs !== undefined && !(Number.isInteger(argv.jobs) && argv.jobs >= 1)) throw new UsageError(`--jobs ${argv.jobs}: give a whole number, 1 or more.`);
  const bundles = await expandBundleFolders(argv.bundles);
  const progress = progressLine(bundles);
  const result = await analyse(bundles, { timezone: argv.timezone, year: argv.year, limits, keepAllEvents, events: wantEvents, jobs: argv.jobs, onProgress: progress.onProgress }).finally(() => progress.done());
  const filter = { ip: argv.ip, host: argv.host, container: argv.container, since, until };
  // Only the timeline, markdown and HTML show events: a busy node has a hundred thousand to gather and sort.
  const events = () => filterEvents(allEvents(result), result, filter);
  return { result, events, shown: filterFindings(result, filter) };
}

async function emit(body: string | Iterable<string>, output: string | undefined): Promise<void> {
  let file: FileHandle | undefined;
  try {
    if (output) file = await open(output, 'w');
  } catch (e) {
    throw new UsageError(`cannot write the report to ${output} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Check that its folder exists and is writable.`);
  }
  // Pieces are gathered to about 1 MiB per write, and each write waits for the last: flat memory on a busy node.
  const write = async (s: string) => {
    if (file) await file.write(s);
    else if (!process.stdout.write(s)) await once(process.stdout, 'drain');
  };
  try {
    if (typeof body === 'string') return await write(body);
    let batch = '';
    for (const piece of body) {
      batch += piece;
      if (batch.length >= 1 << 20) {
        await write(batch);
        batch = '';
      }
    }
    await write(batch);
  } finally {
    await file?.close();
  }
}

async function report(argv: BundleArgs & { format: (typeof FORMATS)[number]; output?: string; failOn: FailOn; verbose: boolean }): Promise<number> {
  const { result, events, shown } = await analyseArgs(argv, false, argv.format === 'markdown' || argv.format === 'html');
  const story = argv.ip ? ipStory(result, argv.ip) : undefined;
  let body: string | Iterable<string>;
  if (argv.format === 'json') body = jsonChunks(shown, argv.verbose, story);
  else if (argv.format === 'markdown') body = renderMarkdown(shown, events(), story);
  else if (argv.format === 'html') body = renderHtml(shown, events(), story);
  else body = renderText(shown, { colour: !argv.output && colourWanted(process.stdout), verbose: argv.verbose, width: process.stdout.columns, story });
  await emit(body, argv.output);
  if (reachesFailOn(shown, argv.failOn)) return EXIT.findings;
  // Part of the input could not be read: "no findings" must not read as "healthy".
  if (result.diagnostics.some((d) => d.level === 'error')) {
    process.stderr.write('forensics: some evidence could not be read (see the diagnostics); the report covers only the rest.\n');
    return EXIT.unusable;
  }
  return EXIT.clean;
}

function parseSince(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([dhm]?)$/.exec(s.trim());
  if (!m) throw new UsageError(`--since ${s}: give a duration such as 7d, 36h or 90m.`);
  const n = Number(m[1]);
  return m[2] === 'h' ? n / 24 : m[2] === 'm' ? n / 1440 : n;
}

export async function main(args: string[]): Promise<number> {
  let code: number = EXIT.clean;
  await yargs(args)
    .scriptName('forensics')
    .usage('$0 <command> [options]\n\nDocker/CNI forensics: leaked network namespaces, what pins them, and who last held an IP.')
    .command(
      'report <bundles..>',
      'Analyse evidence bundles (folders, .tar, .tar.gz, .tar.xz sosreports, .zip; one per host, or one folder per host inside)',
      (y) =>
        bundleOptions(y)
          .option('format', { alias: 'f', choices: FORMATS, default: 'text' as const, describe: 'output format' })
          .option('output', { alias: 'o', type: 'string', describe: 'write the report to this file instead of stdout' })
          .option('fail-on', { choices: FAIL_ON, default: 'warning' as const, describe: 'exit 1 when a finding is at least this severe' })
          .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'show every info finding, file note and skipped rule' })
          .example('$0 report node-a.tar.gz node-b.tar.gz', 'two hosts, text report')
          .example('$0 report samples/seed-incident/* --ip 10.2.1.15', 'everything about one IP across hosts')
          .example('$0 report samples/seed-incident/* --format html -o report.html', 'one self-contained HTML file'),
      async (argv) => {
        code = await report({ ...argv, bundles: argv.bundles as string[], failOn: argv.failOn as FailOn });
      },
    )
    .command(
      'timeline <bundles..>',
      'Every event, merged across sources and hosts, oldest first (text, or NDJSON for Timesketch)',
      (y) =>
        bundleOptions(y)
          .option('format', { alias: 'f', choices: ['text', 'ndjson'] as const, default: 'text' as const, describe: 'output format' })
          .option('output', { alias: 'o', type: 'string', describe: 'write to this file instead of stdout' })
          .example('$0 timeline samples/seed-incident/* --ip 10.2.1.15', 'the life of one IP')
          .example('$0 timeline node.tar.gz --format ndjson > events.jsonl', 'import into Timesketch'),
      async (argv) => {
        const { result, events: gather } = await analyseArgs({ ...argv, bundles: argv.bundles as string[] }, true);
        const events = gather();
        await emit(argv.format === 'ndjson' ? ndjsonLines(result, events) : renderTimelineText(result, events), argv.output);
      },
    )
    .command(
      'collect',
      'Gather an evidence bundle on this host, read-only (run as root for a complete one)',
      (y) =>
        y
          .option('output', { alias: 'o', type: 'string', describe: 'archive to write (default incident-<host>-<UTC time>.tar.gz)' })
          .option('since', { type: 'string', default: '7d', describe: 'how far back to read logs: 7d, 36h, 90m' })
          .option('max-file-bytes', { type: 'number', default: 64 * 1024 * 1024, describe: 'larger files and outputs keep their tail and are marked truncated' })
          .option('cni-log', { type: 'string', array: true, default: [] as string[], describe: 'extra CNI log glob (repeatable), added to the well-known paths' })
          .option('logs', { type: 'boolean', default: true, describe: 'collect logs (--no-logs to skip them)' })
          .option('timeout', { type: 'number', default: 600, describe: 'total time limit in seconds' })
          .option('print-script', { type: 'boolean', default: false, describe: 'print collect.sh, the same collection for nodes without Node.js' }),
      async (argv) => {
        if (argv.printScript) {
          process.stdout.write(await readFile(new URL('../../../collect.sh', import.meta.url), 'utf8').catch(() => readFile(new URL('../../collect.sh', import.meta.url), 'utf8')));
          return;
        }
        const days = parseSince(argv.since);
        const tty = Boolean(process.stderr.isTTY);
        const { collect } = await import('../collect/collect.js'); // only this command needs it (and fast-glob)
        const r = await collect({
          output: argv.output,
          sinceDays: days,
          maxFileBytes: argv.maxFileBytes,
          cniLogs: argv.cniLog as string[],
          logs: argv.logs,
          commandTimeoutMs: 30_000,
          totalTimeoutMs: argv.timeout * 1000,
          progress: tty ? (m) => process.stderr.write(`\r\x1b[Kcollecting: ${m}`) : undefined,
        });
        if (tty) process.stderr.write('\r\x1b[K');
        if (process.getuid?.() !== 0) process.stderr.write('forensics collect: not running as root: other users\' processes, fds and mount namespaces could not be read.\n');
        process.stderr.write(`forensics collect: wrote ${r.output} (${(r.bytes / 1024).toFixed(0)} KiB, ${r.entries.length} items, ${r.failures.length} failed)\n`);
        for (const f of r.failures.slice(0, 20)) process.stderr.write(`  failed: ${f.command ?? f.source ?? f.path}: ${f.error}\n`);
        for (const n of r.notes) process.stderr.write(`  note: ${n}\n`);
        process.stderr.write(`Next: forensics report ${r.output}\n`);
      },
    )
    .command('rules', 'List the rules: id, severity and what each finds', {}, () => {
      for (const r of rules) process.stdout.write(`${r.id.padEnd(24)} ${r.severity.padEnd(8)} ${r.summary}\n`);
    })
    .command(
      'explain <rule>',
      'Explain one rule: what it detects, why it matters, the evidence it needs, how to fix it',
      (y) => y.positional('rule', { type: 'string', demandOption: true }),
      (argv) => {
        const r = rules.find((x) => x.id === argv.rule);
        if (!r) throw new UsageError(`no rule "${argv.rule}". Known rules: ${rules.map((x) => x.id).join(', ')}.`);
        process.stdout.write(
          [
            `${r.id} (${r.severity}): ${r.summary}`,
            '',
            `What it detects: ${r.explain.detects}`,
            `Why it matters:  ${r.explain.matters}`,
            `Evidence needed: ${r.needs.map((n) => `${n.what} — collect with: ${n.collect}`).join('; ')}`,
            `How to fix:      ${r.explain.fix}`,
            `Reported in:     ${r.explain.reference}`,
            '',
          ].join('\n'),
        );
      },
    )
    .command(
      'replay [dir]',
      'Replay every sample incident and compare its findings with its expected.json',
      (y) =>
        y
          .positional('dir', { type: 'string', default: 'samples', describe: 'folder of samples, one sub-folder each' })
          .option('update', { type: 'boolean', default: false, describe: 'rewrite the expected files from the current findings' }),
      async (argv) => {
        const results = await replay(argv.dir, argv.update);
        if (!results.length) throw new UsageError(`${argv.dir}: no sample folders found.`);
        for (const r of results) {
          const state = r.error ? 'ERROR' : r.updated ? 'updated' : r.diff.length ? 'DRIFT' : 'ok';
          process.stdout.write(`${state.padEnd(8)} ${r.sample}${r.error ? `: ${r.error}` : ''}\n`);
          for (const d of r.diff) process.stdout.write(`         ${d}\n`);
        }
        code = results.some((r) => r.error || (!argv.update && r.diff.length)) ? EXIT.findings : EXIT.clean;
      },
    )
    .command('formats', 'List every kind of evidence recognised, with the command that collects it by hand', {}, () => {
      const width = Math.max(...parsers.map((p) => p.id.length));
      for (const p of parsers) process.stdout.write(`${p.id.padEnd(width)} ${p.describe}\n${''.padEnd(width)} collect: ${p.collect}\n`);
    })
    .completion('completion', 'Print a bash/zsh completion script: forensics completion >> ~/.bashrc')
    .demandCommand(1, 'Give a command: report, timeline, collect, rules, explain, formats or replay.')
    .strict()
    .recommendCommands()
    .version(TOOL.version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(`${msg}\nRun \`forensics --help\` for usage.`);
    })
    .parseAsync();
  return code;
}

// `forensics formats | head`: a reader that goes away is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof BundleError) process.stderr.write(`forensics: ${e.message}\n`);
    else process.stderr.write(`forensics: internal error (this is a bug in ${TOOL.name} ${TOOL.version}; please report it with the command line):\n${(e as Error)?.stack ?? e}\n`);
    process.exitCode = EXIT.unusable;
  },
);
