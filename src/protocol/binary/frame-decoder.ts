// Incremental frame decoder: bytes in (any chunking: one byte at a time gives the same frames),
// complete frames out. Framing only — headers are decoded by HeaderCodec. Pure, no I/O.
//
//   stream   = preamble frame*            (the preamble only when `preamble: true`)
//   preamble = "EVMB" version:u8          version must be 1
//   frame    = length:u32be type:u8 hlen:u32be header:hlen payload:(length - 5 - hlen)
//
// A frame that lies inside one pushed chunk is returned as views of that chunk (no copy). One
// split across chunks keeps views of each piece: its payload is the list of those pieces, and
// only a header that straddles chunks is copied (a frame trickling in more than MAX_PIECES reads
// is copied into one buffer instead). Pushed buffers must never be reused (socket
// chunks are not), so views stay valid. After an error the decoder throws it again on every push.
//
// Why pieces: socket reads are at most 64 KiB and a PUBLISH or DELIVER frame of 100 1 KiB events
// is larger, so assembling frames copied (and allocated) every byte read once more — counted on
// tcp-binary's latency phase: as many bytes as the reads themselves on the shards and the SDK.
import { Buffer } from 'node:buffer';
import { EvmeshError } from '../../errors.js';
import { isFrameType, MAGIC, VERSION } from './frames.js';

export interface RawFrame {
  readonly type: number;
  readonly header: Uint8Array;
  /** The payload's bytes in order: one view, or several for a frame that spanned chunks. */
  readonly payload: readonly Uint8Array[];
}

export interface FrameDecoderOptions {
  /** Largest frame accepted, the 4-byte length included (→ EVM_TOO_LARGE). */
  readonly maxFrameBytes: number;
  /** Expect the 5-byte preamble first. */
  readonly preamble: boolean;
}

export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Views kept per frame at most: a peer trickling a frame in tiny reads gets it assembled by
 *  copying (one buffer of the frame's size, as before), so what a frame pins stays bounded. */
const MAX_PIECES = 32;

export class FrameDecoder {
  private readonly max: number;
  /** Preamble bytes still expected (0 once checked). */
  private preambleLeft: number;
  /** Length prefix bytes collected across chunks. */
  private readonly lenBuf = new Uint8Array(4);
  private lenFill = 0;
  /** Views of the pieces of the frame being read across chunks (length prefix included). */
  private parts: Uint8Array[] | undefined;
  private partsFill = 0;
  private partsNeed = 0;
  /** After MAX_PIECES pieces: the frame, copied into one buffer of its size and filled on. */
  private assembly: Buffer | undefined;
  private failed: EvmeshError | undefined;

  constructor(o: FrameDecoderOptions) {
    this.max = o.maxFrameBytes;
    this.preambleLeft = o.preamble ? MAGIC.length + 1 : 0;
  }

  /** Frames completed by `chunk`, in order. Throws EVM_BAD_FRAME / EVM_TOO_LARGE /
   *  EVM_UNSUPPORTED (version). */
  push(chunk: Uint8Array): RawFrame[] {
    if (this.failed) throw this.failed;
    try {
      return this.run(chunk);
    } catch (err) {
      this.failed = err instanceof EvmeshError ? err : new EvmeshError('EVM_BAD_FRAME', String(err));
      throw this.failed;
    }
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.parts === undefined && this.lenFill === 0 && this.preambleLeft <= 0;
  }

  private run(chunk: Uint8Array): RawFrame[] {
    const out: RawFrame[] = [];
    const end = chunk.length;
    let pos = 0;
    while (this.preambleLeft > 0 && pos < end) {
      const i = MAGIC.length + 1 - this.preambleLeft;
      const b = chunk[pos++]!;
      if (i < MAGIC.length) {
        if (b !== MAGIC[i]) throw new EvmeshError('EVM_BAD_FRAME', 'not an evmesh binary stream (bad magic)');
      } else if (b !== VERSION) {
        throw new EvmeshError('EVM_UNSUPPORTED', `protocol version ${b} is not supported (this side speaks ${VERSION})`, { version: b, supported: VERSION });
      }
      this.preambleLeft--;
    }
    while (pos < end) {
      if (this.parts !== undefined) {
        const n = Math.min(this.partsNeed - this.partsFill, end - pos);
        const piece = chunk.subarray(pos, pos + n);
        if (this.assembly !== undefined) this.assembly.set(piece, this.partsFill);
        else if (this.parts.length < MAX_PIECES) this.parts.push(piece);
        else this.assembly = assemble(this.parts, piece, this.partsNeed);
        this.partsFill += n;
        pos += n;
        if (this.partsFill === this.partsNeed) {
          const frame = this.assembly !== undefined ? this.parse(this.assembly, 0, this.partsNeed) : this.parseParts(this.parts, this.partsNeed);
          this.parts = undefined;
          this.assembly = undefined;
          out.push(frame);
        }
        continue;
      }
      if (this.lenFill > 0 || end - pos < 4) {
        while (this.lenFill < 4 && pos < end) this.lenBuf[this.lenFill++] = chunk[pos++]!;
        if (this.lenFill < 4) break;
        this.lenFill = 0;
        this.parts = [this.lenBuf.slice()];
        this.partsNeed = 4 + this.check(readU32(this.lenBuf, 0));
        this.partsFill = 4;
        continue;
      }
      const length = this.check(readU32(chunk, pos));
      if (end - pos >= 4 + length) {
        out.push(this.parse(chunk, pos, pos + 4 + length));
        pos += 4 + length;
      } else {
        this.parts = [chunk.subarray(pos, end)];
        this.partsNeed = 4 + length;
        this.partsFill = end - pos;
        pos = end;
      }
    }
    return out;
  }

  private check(length: number): number {
    if (length < 5) throw new EvmeshError('EVM_BAD_FRAME', `frame length ${length} is below the minimum of 5`);
    if (length + 4 > this.max) {
      throw new EvmeshError('EVM_TOO_LARGE', `frame of ${length + 4} bytes exceeds the limit of ${this.max}`, { size: length + 4, limit: this.max });
    }
    return length;
  }

  /** buf[start, end) is one whole frame, length prefix included. */
  private parse(buf: Uint8Array, start: number, end: number): RawFrame {
    const type = frameType(buf[start + 4]!);
    const hlen = readU32(buf, start + 5);
    const h = start + 9;
    if (hlen > end - h) throw new EvmeshError('EVM_BAD_FRAME', `header length ${hlen} exceeds the frame`);
    return { type, header: buf.subarray(h, h + hlen), payload: [buf.subarray(h + hlen, end)] };
  }

  /** `parts` hold one whole frame of `size` bytes, length prefix included, in order. */
  private parseParts(parts: readonly Uint8Array[], size: number): RawFrame {
    const head = copyRange(parts, 0, 9);
    const type = frameType(head[4]!);
    const hlen = readU32(head, 5);
    if (hlen > size - 9) throw new EvmeshError('EVM_BAD_FRAME', `header length ${hlen} exceeds the frame`);
    const header = viewRange(parts, 9, 9 + hlen);
    return { type, header: header.length === 1 ? header[0]! : copyRange(parts, 9, 9 + hlen), payload: viewRange(parts, 9 + hlen, size) };
  }
}

function assemble(parts: readonly Uint8Array[], last: Uint8Array, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  out.set(last, o);
  return out;
}

function frameType(type: number): number {
  if (!isFrameType(type)) throw new EvmeshError('EVM_BAD_FRAME', `unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
  return type;
}

/** Views of bytes [from, to) of the concatenation of `parts` (none for an empty range). */
function viewRange(parts: readonly Uint8Array[], from: number, to: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of parts) {
    const a = Math.max(from, at), b = Math.min(to, at + p.length);
    if (a < b) out.push(p.subarray(a - at, b - at));
    at += p.length;
    if (at >= to) break;
  }
  return out;
}

/** A copy of bytes [from, to) of the concatenation of `parts`. */
function copyRange(parts: readonly Uint8Array[], from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(to - from);
  let o = 0;
  for (const v of viewRange(parts, from, to)) { out.set(v, o); o += v.length; }
  return out;
}

export function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}
