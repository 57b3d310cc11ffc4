import { parseFirstJson } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';

interface Manifest {
  tool?: { name?: string };
  uid?: number | null;
  notes?: string[];
  entries?: { path?: string; command?: string; source?: string; error?: string; truncated?: boolean; exitCode?: number | null }[];
}

/** manifest.json written by `forensics collect` or collect.sh: what failed or was cut during collection. */
export default defineParser({
  id: 'collector-manifest',
  describe: 'manifest.json of a `forensics collect` / collect.sh bundle: commands run, exit status, failures, truncated files',
  collect: 'forensics collect (or sh collect.sh)',
  recognise: { path: /(?:^|\/)manifest\.json$/, head: (h) => /"tool"\s*:\s*\{\s*"name"\s*:\s*"cni-forensics"/.test(h) },
  open(ctx) {
    return wholeText(ctx, (text, first) => {
      const parsed = parseFirstJson(text);
      if ('error' in parsed) return ctx.warn(first, `unreadable collector manifest: ${parsed.error}`);
      if (!parsed.value || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) return ctx.warn(first, 'collector manifest is not a JSON object');
      const m = parsed.value as Manifest;
      if (typeof m.uid === 'number' && m.uid !== 0) ctx.warn(first, `collected as uid ${m.uid}, not root: other users' processes, fds and mount tables may be missing`);
      for (const n of Array.isArray(m.notes) ? m.notes : []) ctx.warn(first, `collector: ${String(n)}`);
      for (const e of Array.isArray(m.entries) ? m.entries : []) {
        if (!e || typeof e !== 'object') continue;
        const what = e.command ? `\`${e.command}\`` : (e.source ?? e.path ?? '?');
        if (e.error) ctx.warn(first, `collector: ${what} failed: ${e.error}`);
        if (e.truncated) ctx.warn(first, `collector: ${what} was larger than --max-file-bytes; only its tail is in the bundle`);
      }
    });
  },
});
