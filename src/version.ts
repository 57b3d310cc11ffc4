import { readFileSync } from 'node:fs';

function readVersion(): string {
  // From dist/src/ or from src/ when run by the test runner.
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cni-forensics' && pkg.version) return pkg.version;
    } catch {
      /* try the next location */
    }
  }
  return '0.0.0';
}

export const TOOL = { name: 'cni-forensics', version: readVersion() };
