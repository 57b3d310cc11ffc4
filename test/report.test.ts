import { describe, expect, it } from 'vitest';
import { safeText } from '../src/report/escape.js';
import { mdFence, mdText } from '../src/report/markdown.js';

describe('escaping bundle text', () => {
  it('neutralises terminal control sequences', () => {
    expect(safeText('pod\x1b[2J\x1b]0;pwned\x07name\r')).toBe('pod\\x1b[2J\\x1b]0;pwned\\x07name\\x0d');
    expect(safeText('a\u202eb')).toBe('a\\x202eb');
  });

  it('keeps Markdown and HTML out of prose, and picks a fence that no content can close', () => {
    expect(mdText('<b>x</b> | *y* `z`')).toBe('\\<b\\>x\\</b\\> \\| \\*y\\* \\`z\\`');
    const fenced = mdFence('line with ``` inside and ```` more');
    expect(fenced.startsWith('`````\n')).toBe(true);
    expect(fenced.endsWith('\n`````')).toBe(true);
  });
});

describe('the JSON report in pieces', () => {
  it('joins to exactly the whole-document JSON, with findings, without, and with an IP story', async () => {
    const { analyse } = await import('../src/engine/analyse.js');
    const { jsonChunks, reportObject } = await import('../src/report/json.js');
    const { ipStory } = await import('../src/report/ipfocus.js');
    const seed = await analyse(['samples/seed-incident/10.2.1.4', 'samples/seed-incident/10.2.1.6']);
    const healthy = await analyse(['samples/healthy-node/worker-7.tar.gz']);
    expect(seed.findings.length).toBeGreaterThan(3);
    expect(healthy.findings.filter((f) => f.severity !== 'info').length).toBe(0);
    const story = ipStory(seed, '10.2.1.15');
    for (const [a, verbose, s] of [[seed, false, undefined], [seed, true, story], [healthy, false, undefined], [{ ...healthy, findings: [] }, false, undefined]] as const) {
      const pieces = [...jsonChunks(a, verbose, s)];
      expect(pieces.join('')).toBe(`${JSON.stringify(reportObject(a, verbose, s), null, 2)}\n`);
      if (a.findings.length) expect(pieces.length).toBe(a.findings.length + 2); // one piece per finding, never the whole
    }
  });
});

describe('times in the human reports', () => {
  it('show when a pinning process started in its host zone, as every other time; JSON keeps UTC', async () => {
    const { analyse } = await import('../src/engine/analyse.js');
    const { renderText } = await import('../src/report/text.js');
    const { renderMarkdown } = await import('../src/report/markdown.js');
    const { renderHtml } = await import('../src/report/html.js');
    const seed = await analyse(['samples/seed-incident/10.2.1.4', 'samples/seed-incident/10.2.1.6']);
    const leak = seed.findings.find((f) => f.rule === 'netns-leaked' && f.pinnedBy.some((p) => p.pid === 8581))!;
    const started = leak.pinnedBy.find((p) => p.pid === 8581)!.started!;
    expect(started).toBe('2017-02-03T06:02:11.000Z'); // the model's UTC, as the JSON report writes it
    const local = '2017-02-03 14:02:11 +08:00'; // the host's zone is Asia/Shanghai
    const text = renderText(seed, { colour: false, verbose: false, width: 100 });
    expect(text).toContain(`pid 8581 ppid 1 started ${local}`);
    expect(text).not.toContain(started);
    expect(renderMarkdown(seed, [])).toContain(`| ${local} |`);
    expect(renderHtml(seed, [])).toContain(`<td>${local}</td>`);
  });
});

describe('long text in the terminal report', () => {
  it("cuts a pinner's command line (argv can carry kilobytes) and keeps it whole in JSON", async () => {
    const { analyse } = await import('../src/engine/analyse.js');
    const { renderText } = await import('../src/report/text.js');
    const { reportObject } = await import('../src/report/json.js');
    const seed = await analyse(['samples/seed-incident/10.2.1.4', 'samples/seed-incident/10.2.1.6']);
    const leak = seed.findings.find((f) => f.rule === 'netns-leaked' && f.pinnedBy.length)!;
    const long = `log-shipper --env ${JSON.stringify(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`VAR_${i}`, '/etc/ssl/certs/ca-certificates.crt'])))}`;
    leak.pinnedBy[0].command = long;
    const line = renderText(seed, { colour: false, verbose: false, width: 100 }).split('\n').find((l) => l.includes('log-shipper --env'))!;
    expect(line.endsWith('…')).toBe(true);
    expect(line.length).toBeLessThan(300);
    expect(JSON.stringify(reportObject(seed))).toContain(JSON.stringify(long).slice(1, -1));
  });
});

describe('one rule firing many times on one host, in the text report', () => {
  it('shows the first five in full and the rest a line each; --verbose shows all in full', async () => {
    const { analyseHosts } = await import('./helpers.js');
    const { renderText } = await import('../src/report/text.js');
    // Eight pods whose Azure CNI DEL failed the same way (Azure/azure-container-networking#76).
    const lines = Array.from({ length: 8 }, (_, i) => {
      const id = `${i.toString(16).padStart(2, '0')}${'ab'.repeat(31)}`;
      const args = `IgnoreUnknown=1;K8S_POD_NAMESPACE=jobs;K8S_POD_NAME=run-${i};K8S_POD_INFRA_CONTAINER_ID=${id}`;
      return [
        `2017/09/30 14:0${i}:11 [${100 + i}] [cni-net] Processing ADD command with args {ContainerID:${id} Netns:/proc/${4000 + i}/ns/net IfName:eth0 Args:${args} Path:/opt/cni/bin}.`,
        `2017/09/30 14:0${i}:12 [${100 + i}] [cni-net] ADD command completed with result:&{IPs:[{Version:4 Interface:<nil> Address:{IP:10.240.0.${10 + i} Mask:ffff0000} Gateway:10.240.0.1}]} err:<nil>.`,
        `2017/09/30 15:0${i}:58 [${200 + i}] [cni-net] Processing DEL command with args {ContainerID:${id} Netns: IfName:eth0 Args:${args} Path:/opt/cni/bin}.`,
        `2017/09/30 15:0${i}:58 [${200 + i}] [cni-net] DEL command completed with err:Failed to delete endpoint: route ip+net: no such network interface.`,
      ].join('\n');
    });
    const a = await analyseHosts({ node: { 'etc/timezone': 'UTC\n', 'var/log/azure-vnet.log': `${lines.join('\n')}\n` } });
    const failed = a.findings.filter((f) => f.rule === 'cni-del-failed');
    expect(failed).toHaveLength(8);
    const text = renderText(a, { colour: false, verbose: false, width: 100 });
    expect(text.match(/^WARNING {2}cni-del-failed {2}\[node\]$/gm)).toHaveLength(5);
    expect(text.match(/^ {2}Evidence:$/gm)).toHaveLength(5);
    for (const f of failed.slice(5)) expect(text).toContain(`  WARNING  cni-del-failed  [node]  ${f.title}`);
    expect(text).toContain('(3 more cni-del-failed findings on node, a line each: --verbose shows them in full, as --format json does)');
    const verbose = renderText(a, { colour: false, verbose: true, width: 100 });
    expect(verbose.match(/^WARNING {2}cni-del-failed {2}\[node\]$/gm)).toHaveLength(8);
    expect(verbose).not.toContain('more cni-del-failed findings');
  });
});
