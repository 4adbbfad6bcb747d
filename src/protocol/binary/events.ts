// Events in frames: attributes in the header (one msgpack map per event), data bytes in the
// payload as `len:u32be bytes` per event in the same order (len 0xFFFFFFFF = no data). Data is
// returned as views of the payload (no copy).
import { Buffer } from 'node:buffer';
import { EvmeshError } from '../../errors.js';
import type { MeshEvent } from '../../core/types.js';
import { readU32 } from './frame-decoder.js';
import { NO_DATA, type Attributes } from './frames.js';

/** Splits a payload (its pieces in order, parse.ts) into `count` data entries; a count mismatch
 *  or leftover bytes → EVM_BAD_FRAME. Data are views; only an event whose bytes straddle two
 *  pieces (a frame that spanned socket reads) is copied. */
export function readEventData(payload: readonly Uint8Array[], count: number): (Uint8Array | undefined)[] {
  if (payload.length <= 1) return readContiguous(payload[0] ?? EMPTY, count);
  const out: (Uint8Array | undefined)[] = new Array(count);
  const r = new PieceReader(payload);
  for (let i = 0; i < count; i++) {
    if (r.left < 4) throw new EvmeshError('EVM_BAD_FRAME', `payload holds fewer than ${count} events`);
    const n = readU32(r.take(4), 0);
    if (n === NO_DATA) { out[i] = undefined; continue; }
    if (n > r.left) throw new EvmeshError('EVM_BAD_FRAME', `event ${i} data length ${n} exceeds the payload`);
    out[i] = r.take(n);
  }
  if (r.left !== 0) throw new EvmeshError('EVM_BAD_FRAME', `${r.left} bytes after the last event's data`);
  return out;
}

const EMPTY = Buffer.alloc(0);

function readContiguous(payload: Uint8Array, count: number): (Uint8Array | undefined)[] {
  const out: (Uint8Array | undefined)[] = new Array(count);
  const end = payload.length;
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (end - p < 4) throw new EvmeshError('EVM_BAD_FRAME', `payload holds fewer than ${count} events`);
    const n = readU32(payload, p);
    p += 4;
    if (n === NO_DATA) { out[i] = undefined; continue; }
    if (n > end - p) throw new EvmeshError('EVM_BAD_FRAME', `event ${i} data length ${n} exceeds the payload`);
    out[i] = payload.subarray(p, p + n);
    p += n;
  }
  if (p !== end) throw new EvmeshError('EVM_BAD_FRAME', `${end - p} bytes after the last event's data`);
  return out;
}

/** Sequential reads over pieces: a view when the bytes lie in one piece, else a copy. */
class PieceReader {
  private i = 0;
  private at = 0;
  left: number;
  constructor(private readonly pieces: readonly Uint8Array[]) {
    let n = 0;
    for (const p of pieces) n += p.length;
    this.left = n;
  }

  take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    this.left -= n;
    while (this.at === this.pieces[this.i]!.length) { this.i++; this.at = 0; }
    const p = this.pieces[this.i]!;
    if (this.at + n <= p.length) {
      const v = p.subarray(this.at, this.at + n);
      this.at += n;
      return v;
    }
    const out = Buffer.allocUnsafe(n);
    for (let o = 0; o < n;) {
      while (this.at === this.pieces[this.i]!.length) { this.i++; this.at = 0; }
      const q = this.pieces[this.i]!;
      const k = Math.min(n - o, q.length - this.at);
      out.set(q.subarray(this.at, this.at + k), o);
      o += k;
      this.at += k;
    }
    return out;
  }
}

/** `{attributes, data}` as core takes it (validated by core, not here). */
export function meshEvent(attributes: unknown, data: Uint8Array | undefined): MeshEvent {
  return (data === undefined ? { attributes } : { attributes, data }) as MeshEvent;
}

export function isAttributes(v: unknown): v is Attributes {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
