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
