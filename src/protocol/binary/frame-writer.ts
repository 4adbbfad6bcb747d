// Builds outgoing frames into one growable buffer, so a connection writes everything it has
// for an event-loop turn with one socket write (take()). Pure, no I/O.
import { Buffer } from 'node:buffer';
import { FRAME_OVERHEAD, NO_DATA, PREAMBLE } from './frames.js';
import type { HeaderCodec } from './header-codec.js';
import { growBuffer } from '../../core/bytes.js';

const INITIAL_BYTES = 16 * 1024;

export class FrameWriter {
  private buf: Buffer;
  private pos = 0;

  /** Encodes the headers of frames written from now on (the set may change after HELLO). */
  constructor(public codec: HeaderCodec, private readonly initial = INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes waiting for take(). */
  get length(): number {
    return this.pos;
  }

  private ensure(extra: number): void {
    if (this.pos + extra > this.buf.length) this.buf = growBuffer(this.buf, this.pos, extra);
  }

  preamble(): void {
    this.ensure(PREAMBLE.length);
    this.buf.set(PREAMBLE, this.pos);
    this.pos += PREAMBLE.length;
  }

  /** Appends one frame: `header` (msgpack; undefined = empty header) and, when `data` is given,
   *  the event payload — per event `len:u32be bytes`, len 0xFFFFFFFF for an event without data. */
  frame(type: number, header?: unknown, data?: readonly (Uint8Array | undefined)[]): void {
    const h = header === undefined ? undefined : this.codec.encode(header);
    const hlen = h === undefined ? 0 : h.length;
    let plen = 0;
    if (data !== undefined) for (let i = 0; i < data.length; i++) plen += 4 + (data[i]?.length ?? 0);
    this.ensure(FRAME_OVERHEAD + hlen + plen);
    const b = this.buf, start = this.pos;
    b.writeUInt32BE(5 + hlen + plen, start);
    b[start + 4] = type;
    b.writeUInt32BE(hlen, start + 5);
    let p = start + FRAME_OVERHEAD;
    if (h !== undefined) { b.set(h, p); p += hlen; }
    if (data !== undefined) {
      for (let i = 0; i < data.length; i++) {
        const d = data[i];
        if (d === undefined) { b.writeUInt32BE(NO_DATA, p); p += 4; continue; }
        b.writeUInt32BE(d.length, p);
        b.set(d, p + 4);
        p += 4 + d.length;
      }
    }
    this.pos = p;
  }

  /** Everything written since the last take() (a fresh buffer follows: the socket keeps this
   *  one until it is written). Undefined when nothing is pending. */
  take(): Buffer | undefined {
    if (this.pos === 0) return undefined;
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.initial, Math.min(this.buf.length, 4 * 1024 * 1024)));
    this.pos = 0;
    return out;
  }
}

/** Bytes one frame takes: for sizing batches under maxFrameBytes (header estimated). */
export function eventPayloadBytes(data: Uint8Array | undefined): number {
  return 4 + (data?.length ?? 0);
}
