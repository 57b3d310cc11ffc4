import { commandContext } from '../src/recognise/command.js';
import { defineParser, type LineSink } from '../src/recognise/parser.js';

// Commands people paste into tickets; a "# word" line counts as a prompt only when the word is one of them.
const KNOWN = /^(?:sudo\s+)?(ip|nsenter|docker|podman|nerdctl|crictl|ctr|rpm|cat|awk|grep|egrep|ps|ls|readlink|date|uname|hostname|hostnamectl|timedatectl|systemctl|journalctl|find|mount|findmnt|lsns|lsfd|tail|head|stat|kubectl|for|cd|echo|ss|iptables|conntrack|arp|ping|getconf|sh|bash)\b/;
// user@host prompts cannot be output: any command after them starts a block (`exit`, `vi`, a redirect), so that what
// follows is not taken for the previous command's output. The bare ones need a known command.
const USER_PROMPTS: RegExp[] = [
  /^\[[^\]\s@]+@[^\]]+\][#$] ?(.*)$/, // [root@node-a ~]# cmd
  /^[\w.-]+@[\w.-]+:[^\s#$]*[#$] ?(.*)$/, // root@node-a:~# cmd
];
const PROMPTS: RegExp[] = [
  /^[#$] (.*)$/, // # cmd   $ cmd
  // Alpine's ash ("\h:\w\$ ") and busybox sh ("\w \$ "), the shells of `kubectl debug node/… --image=busybox`:
  /^[\w.-]+:[~/][^\s#$]*[#$] ?(.*)$/, // aks-nodepool1-59385832-vmss000000:/# cmd
  /^[~/][^\s#$]* [#$] (.*)$/, // / # cmd   /host # cmd
];
const PROMPT_HOST = /^\[?[^\]\s@]+@([\w.-]+)|^([\w.-]+):[~/]/;

export function promptCommand(line: string): string | undefined {
  for (const re of USER_PROMPTS) {
    const m = re.exec(line);
    if (m) return m[1].trim();
  }
  for (const re of PROMPTS) {
    const m = re.exec(line);
    if (m && KNOWN.test(m[1].trim())) return m[1].trim();
  }
  return undefined;
}

const HEAD_LINES = 40;
// "cat: /etc/timezone: No such file or directory": the command failed, its output is not evidence.
const SHELL_ERROR = /^[\w.-]+: .*(?:No such file or directory|command not found|Permission denied|Operation not permitted)\s*$/;

/** `cmd > file`, `cmd >> file`, `cmd &> file`: nothing of its output is on the terminal (`2> file` and `>&2` are not that). */
export function toFile(command: string): boolean {
  const bare = command.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, "''");
  return /(?<![\d&>])(?:1?>>?|&>>?)(?![&>])\s*[^\s&|;>]/.test(bare);
}

/** A pasted terminal session: each prompt line starts a block read as that command's output. */
export default defineParser({
  id: 'transcript',
  describe: 'terminal transcripts: `# cmd`, `$ cmd`, `[root@node ~]# cmd`, `root@node:~# cmd`, `node:/# cmd`, `/ # cmd` lines, each followed by its output',
  collect: 'script -q session.log   (or paste the terminal into a file)',
  recognise: {
    sniff: (h) => h.split('\n').slice(0, 5).some((l) => promptCommand(l) !== undefined),
  },
  open(ctx) {
    let block: { command: string; first: number; lines: { text: string; no: number }[] } | undefined;
    let sink: LineSink | undefined;
    const flushHead = () => {
      if (!block || sink) return;
      const head = block.lines.map((l) => l.text).join('\n');
      if ((block.lines.length && SHELL_ERROR.test(block.lines[0].text)) || !block.command || toFile(block.command)) {
        sink = { line() {}, end() {} };
        return;
      }
      sink = ctx.dispatch?.(commandContext(block.command), head, block.first) ?? { line() {}, end() {} };
      for (const l of block.lines) sink.line(l.text, l.no);
    };
    const close = () => {
      if (!block) return;
      flushHead();
      sink?.end();
      block = undefined;
      sink = undefined;
    };
    return {
      line(text, no) {
        const cmd = promptCommand(text);
        if (cmd !== undefined) {
          close();
          const host = PROMPT_HOST.exec(text);
          if (host) ctx.emit({ kind: 'hostname', name: host[1] ?? host[2], fromPrompt: true, ev: ctx.evidence(no, text) });
          block = { command: cmd, first: no + 1, lines: [] };
          return;
        }
        if (!block) return;
        if (sink) return sink.line(text, no);
        block.lines.push({ text, no });
        if (block.lines.length >= HEAD_LINES) flushHead();
      },
      end() {
        close();
      },
    };
  },
});
