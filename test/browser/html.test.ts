// The HTML report in a real browser: Debian's chromium driven by playwright-core (no browser download).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTree } from '../helpers.js';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'dist/src/cli/main.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const reason = existsSync(CHROMIUM) ? '' : `no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (reason) console.log(`skipping browser tests: ${reason}`);

function htmlReport(args: string[], out: string): void {
  const r = spawnSync(process.execPath, [BIN, 'report', ...args, '--format', 'html', '-o', out, '--fail-on', 'none'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

describe.skipIf(Boolean(reason))('HTML report in headless Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'forensics-html-'));
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`file://${file}`);
    return { page, requests, dialogs };
  }

  it('shows the seed incident: summary, findings with evidence and remediation, and a timeline with the leaked IP flagged', async () => {
    const file = join(dir, 'seed.html');
    htmlReport(['samples/seed-incident/10.2.1.4', 'samples/seed-incident/10.2.1.6', '--ip', '10.2.1.15'], file);
    const { page, requests } = await open(file);
    // The page shows what the JSON report finds for the same input.
    const json = spawnSync(process.execPath, [BIN, 'report', 'samples/seed-incident/10.2.1.4', 'samples/seed-incident/10.2.1.6', '--ip', '10.2.1.15', '--format', 'json', '--fail-on', 'none'], { cwd: ROOT, encoding: 'utf8' });
    const findings = (JSON.parse(json.stdout) as { findings: { severity: string; rule: string }[] }).findings;
    const errors = findings.filter((f) => f.severity === 'error').length;
    expect(errors).toBeGreaterThanOrEqual(2);
    expect(findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['netns-leaked', 'ip-conflict', 'veth-dangling']));
    expect(await page.locator('.counts .error').innerText()).toBe(`${errors} errors`);
    expect(await page.locator('section.finding').count()).toBe(findings.filter((f) => f.severity !== 'info').length); // info findings are listed apart
    expect(await page.locator('section.finding[data-rule="netns-leaked"] pre.remediation').innerText()).toContain('nsenter -t 8581 -m umount /run/docker/netns/cf51d21b4b4e');
    expect(await page.locator('.verdict').innerText()).toMatch(/10\.2\.1\.15 is answered from 2 places/);
    const flagged = page.locator('svg g.lane[data-flagged="error"]');
    expect(await flagged.count()).toBeGreaterThanOrEqual(2);
    expect(await flagged.first().getAttribute('data-lane')).toMatch(/^10\.2\.1\.15 @ /);
    expect(await page.locator('svg .del-failed').count()).toBe(1);
    expect(await page.locator('svg .restart').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('svg .finding-mark').count()).toBeGreaterThanOrEqual(2);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'seed-report.png'), fullPage: true });
    await page.close();
  });

  it('escapes hostile names from a bundle: no script runs, no element is injected', async () => {
    const bundle = join(dir, 'evil');
    const evil = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    await writeTree(bundle, {
      'etc/hostname': 'evil-node\n',
      'date.txt': '# date -R\nWed, 08 Feb 2017 17:05:41 +0800\n',
      'cni.log': `I0206 12:22:17.639674   1 server.go:81] ADD ${evil}_demo, ${'d'.repeat(64)}, /proc/9/ns/net, K8S_POD_NAME=${evil}, data {"ip4":{"ip":"10.9.9.9/24"}}, err <nil>\n`,
      'inspect.json': JSON.stringify([{ Id: 'd'.repeat(64), Name: `/${evil}`, State: { Status: 'dead', Dead: true, Pid: 0, StartedAt: '2017-02-06T04:22:16Z', FinishedAt: '2017-02-07T02:05:29Z', Error: evil }, Config: { Labels: { 'io.kubernetes.pod.name': evil } }, NetworkSettings: {} }]),
    });
    const file = join(dir, 'evil.html');
    htmlReport([bundle], file);
    const { page, dialogs, requests } = await open(file);
    expect(dialogs).toEqual([]);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.content()).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await page.close();
  });
});
