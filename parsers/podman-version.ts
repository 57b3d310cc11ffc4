import { defineParser } from '../src/recognise/parser.js';

// `podman version` ("Client:       Podman Engine" / "Version:      4.2.0"; podman 3 starts at "Version:"), `podman --version`
// ("podman version 4.2.0"), `rpm -q podman` ("podman-4.2.0-4.module+el8.7.0+17064+3b31f55c.x86_64"). Which podman it is
// decides what a failed teardown leaves behind (before 4.3 the namespace stays mounted).
const VERSION = /^(?:Version:\s+|podman version |podman-)(\d+\.\d+(?:\.\d+)?)\b/;

export default defineParser({
  id: 'podman-version',
  describe: '`podman version`, `podman --version` or `rpm -q podman`: the podman release (before 4.3 a failed network teardown leaves the namespace mounted)',
  collect: 'podman version',
  recognise: {
    command: /^(?:podman\s+(?:version|--version|-v)\b|rpm\s+-q\S*\s+podman\s*$)/,
    sniff: (h) => /^Client:\s+Podman Engine\s*\n\s*Version:\s+\d/.test(h.trimStart()) || /^podman version \d+\.\d+/.test(h.trimStart()),
  },
  open(ctx) {
    let done = false;
    return {
      line(text, no) {
        if (done) return;
        const m = VERSION.exec(text.trim());
        if (!m) return;
        done = true; // the client's version, not the server's (API Version, a remote's)
        ctx.emit({ kind: 'runtimeVersion', runtime: 'podman', version: m[1], ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
