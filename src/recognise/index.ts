import { parsers } from '../../parsers/index.js';
import type { CommandContext, Parser } from './parser.js';

/** Path first (a path match confirmed by its head test), then content signatures. */
export function recogniseEntry(path: string, head: string, registry: readonly Parser[] = parsers): Parser | undefined {
  for (const p of registry) if (p.recognise.path?.test(path) && (!p.recognise.head || p.recognise.head(head))) return p;
  for (const p of registry) if (p.recognise.sniff?.(head)) return p;
  return undefined;
}

/** A transcript block: the path its command reads, then the command itself, then the output's signature. */
export function recogniseBlock(cmd: CommandContext, head: string, registry: readonly Parser[] = parsers): Parser | undefined {
  const inner = registry.filter((p) => p.id !== 'transcript');
  if (cmd.pathHint) for (const p of inner) if (p.recognise.path?.test(cmd.pathHint) && (!p.recognise.head || p.recognise.head(head))) return p;
  for (const p of inner) if (p.recognise.command?.test(cmd.inner)) return p;
  for (const p of inner) if (p.recognise.sniff?.(head)) return p;
  return undefined;
}
