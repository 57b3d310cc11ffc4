import type { LineSink } from '../recognise/parser.js';

const NL = 10;

/**
 * Splits a byte stream into lines on Buffers (indexOf(10)), faster than readline here.
 * Lines longer than maxLineBytes are cut; `onLongLine` is told once per cut line.
 */
export class LineSplitter {
  private carry: Buffer | undefined;
  private readonly accepts: ((buf: Buffer, from: number, to: number, no: number) => boolean) | undefined;
  private no = 0;
  private skipping = false;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineBytes: number,
    private readonly onLongLine: (line: number) => void,
    startLine = 1,
  ) {
    this.no = startLine - 1;
    this.accepts = sink.accepts?.bind(sink);
  }

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry) {
      // Join the carried partial line with the head of this chunk only, not the whole chunk.
      const nl = chunk.indexOf(NL);
      if (nl < 0 || this.carry.length + nl > this.maxLineBytes) {
        chunk = Buffer.concat([this.carry, chunk]);
        this.carry = undefined;
      } else {
        const line = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
        this.carry = undefined;
        if (this.skipping) this.skipping = false;
        else this.emit(line, 0, line.length);
        start = nl + 1;
      }
    }
    for (let nl = chunk.indexOf(NL, start); nl >= 0; nl = chunk.indexOf(NL, start)) {
      if (this.skipping) this.skipping = false;
      else if (nl - start > this.maxLineBytes) {
        this.emit(chunk, start, start + this.maxLineBytes);
        this.onLongLine(this.no);
      } else this.emit(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) {
      if (this.skipping) return;
      if (chunk.length - start > this.maxLineBytes) {
        this.emit(chunk, start, start + this.maxLineBytes);
        this.onLongLine(this.no);
        this.skipping = true;
        return;
      }
      this.carry = Buffer.from(chunk.subarray(start)); // a copy: the chunk may be handed to another thread (ShardRouter)
    }
  }

  end(): void {
    if (this.carry && this.carry.length && !this.skipping) this.emit(this.carry, 0, this.carry.length);
    this.carry = undefined;
    this.sink.end();
  }

  private emit(buf: Buffer, from: number, to: number): void {
    if (to > from && buf[to - 1] === 13) to--; // CRLF
    this.no++;
    if (this.accepts && !this.accepts(buf, from, to, this.no)) return;
    this.sink.line(buf.toString('utf8', from, to), this.no);
  }

}
