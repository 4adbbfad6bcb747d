// EventMesh TCP framing (spec T2–T6), pure: no I/O.
//
//   frame = magic "EventMesh" (9) | version "0000" (4) | length u32be | headerLength u32be
//           | header (headerLength bytes of UTF-8 JSON, T7) | body (B bytes, may be empty)
//   v1.9+ (T3, default): length = 13 + H + B, total = length + 8
//   ≤ v1.8 (T4, legacy): length =  8 + H + B, total = length + 13
//
// FrameDecoder is incremental: chunks of any size (one byte at a time included) give the same
// frames and the same error. Oversized frames are refused as soon as their prefix is read,
// before their bytes are buffered.
import { EvmeshError } from '../../errors.js';
import { headerJson, type Header } from './header.js';
import { HeaderReader, plainSeq, type HeaderTemplate } from './header-template.js';

export const MAGIC = Buffer.from('EventMesh', 'latin1');
export const VERSION = Buffer.from('0000', 'latin1');
const SIGNATURE = Buffer.concat([MAGIC, VERSION]);
/** magic + version + length + headerLength. */
export const PREFIX_BYTES = 21;
/** Upstream's hard-coded frame limit (T5, T71): `length + 8` ≤ 4 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;

export interface FrameOptions {
  /** Largest whole frame (prefix included) accepted or sent. Default 4 MiB (T71). */
  readonly maxFrameBytes?: number;
  /** Largest header accepted. Default 64 KiB. */
  readonly maxHeaderBytes?: number;
  /** Use the ≤ v1.8 length formula (T4) instead of v1.9+ (T3). */
  readonly legacyLength?: boolean;
}

export interface Frame {
  /** undefined when headerLength is 0 (T5: the server says goodbye and closes). */
  readonly header: Header | undefined;
  /** undefined when the frame has no body (B = 0, T5). A view into the decoder's input. */
  readonly body: Uint8Array | undefined;
}

const utf8 = new TextEncoder();

/** A frame body: bytes, UTF-8 text, or text in parts written one after the other (a CloudEvent's
 *  attributes and its base64 data are not concatenated into one string first: the SDK's
 *  publishes allocated ~1.6 KiB less per 1 KiB event, measured with the heap sampler). */
export type FrameBody = Uint8Array | string | readonly string[];

function bodyLength(body: FrameBody | undefined): number {
  if (body === undefined) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body, 'utf8');
  if (body instanceof Uint8Array) return body.byteLength;
  let n = 0;
  for (let i = 0; i < body.length; i++) n += Buffer.byteLength(body[i]!, 'utf8');
  return n;
}

/** At least bodyLength(body), without scanning text: 3 UTF-8 bytes per UTF-16 unit at most. */
function bodyRoom(body: FrameBody | undefined): number {
  if (body === undefined) return 0;
  if (typeof body === 'string') return 3 * body.length;
  if (body instanceof Uint8Array) return body.byteLength;
  let n = 0;
  for (let i = 0; i < body.length; i++) n += 3 * body[i]!.length;
  return n;
}

/** Writes the body at `at`; returns its length in bytes. */
function writeBody(out: Buffer, at: number, body: FrameBody): number {
  if (typeof body === 'string') return out.write(body, at, 'utf8');
  if (body instanceof Uint8Array) { out.set(body, at); return body.byteLength; }
  const start = at;
  for (let i = 0; i < body.length; i++) at += out.write(body[i]!, at, 'utf8');
  return at - start;
}

function tooLarge(total: number, max: number): void {
  if (total > max) throw new EvmeshError('EVM_TOO_LARGE', `frame of ${total} bytes exceeds the limit of ${max}`, { bytes: total, limit: max });
}

/** Header + body → one frame. Throws EVM_TOO_LARGE above maxFrameBytes (T6). */
export function encodeFrame(header: Header, body?: FrameBody, opts: FrameOptions = {}): Buffer {
  // Header and string bodies are written straight into the frame (no intermediate Buffer per
  // part): one allocation per frame, from Node's pool for frames under 4 KiB.
  const h = headerJson(header);
  const hLen = Buffer.byteLength(h, 'utf8');
  const bodyLen = bodyLength(body);
  const total = PREFIX_BYTES + hLen + bodyLen;
  const max = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (total > max) throw new EvmeshError('EVM_TOO_LARGE', `frame of ${total} bytes exceeds the limit of ${max}`, { bytes: total, limit: max });
  const out = Buffer.allocUnsafe(total);
  SIGNATURE.copy(out, 0);
  out.writeUInt32BE(opts.legacyLength ? 8 + hLen + bodyLen : 13 + hLen + bodyLen, 13);
  out.writeUInt32BE(hLen, 17);
  out.write(h, PREFIX_BYTES, hLen, 'utf8');
  if (body !== undefined) writeBody(out, PREFIX_BYTES + hLen, body);
  return out;
}

/** Frames of one tick encoded back to back into one buffer and sent with ONE socket write
 *  (session.ts, the SDK). Measured (docs/protocol-eventmesh-tcp.md "Numbers"): a Buffer and a
 *  stream write per ~100-byte ACK or ~1.6 KiB publish cost the client ~20% GC and the shards a
 *  visible share of writev/stream bookkeeping. The buffer is reused for the next tick when the
 *  socket took the whole write synchronously (`writableLength` 0 afterwards), else a new one is
 *  allocated, so a buffer the socket still holds is never overwritten. */
export class FrameWriter {
  private buf: Buffer | undefined;
  private pos = 0;

  constructor(private readonly legacy: boolean) {}

  /** Bytes added since the last take(). */
  get bytes(): number { return this.pos; }

  /** Appends one frame; throws EVM_TOO_LARGE (and appends nothing) when it exceeds `max`.
   *  True when it is the first since take() (the caller schedules the write). */
  add(header: Header, body: FrameBody | undefined, max: number): boolean {
    const first = this.pos === 0;
    const h = headerJson(header);
    const hLen = Buffer.byteLength(h, 'utf8');
    const at = this.reserve(hLen, body, max);
    this.buf!.write(h, at, hLen, 'utf8');
    return first;
  }

  /** Appends one frame whose header is `t` with `seq` (header-template.ts): the same bytes as
   *  add() of that header, without making its JSON text. */
  addSeq(t: HeaderTemplate, seq: string, body: FrameBody | undefined, max: number): boolean {
    const first = this.pos === 0;
    const plain = plainSeq(seq);
    const text = plain ? seq : JSON.stringify(seq).slice(1, -1);
    const sLen = plain ? seq.length : Buffer.byteLength(text, 'utf8');
    let at = this.reserve(t.head.length + sLen + t.tail.length, body, max);
    const buf = this.buf!;
    buf.set(t.head, at);
    at += t.head.length;
    if (plain) for (let i = 0; i < sLen; i++) buf[at + i] = seq.charCodeAt(i);
    else buf.write(text, at, sLen, 'utf8');
    buf.set(t.tail, at + sLen);
    return first;
  }

  /** Makes room for a frame with an hLen-byte header, writes its prefix and body, and returns
   *  where its header goes. Throws EVM_TOO_LARGE (nothing appended) above `max`. */
  private reserve(hLen: number, body: FrameBody | undefined, max: number): number {
    // The body is written first and measured by writing (Buffer.byteLength of each text part
    // first cost the SDK ~0.15 µs per publish); only a body that might exceed `max` is measured
    // before anything is allocated for it.
    let room = bodyRoom(body);
    if (PREFIX_BYTES + hLen + room > max) {
      room = bodyLength(body);
      tooLarge(PREFIX_BYTES + hLen + room, max);
    }
    const at = this.pos;
    let buf = this.buf;
    const need = at + PREFIX_BYTES + hLen + room;
    if (buf === undefined || need > buf.length) {
      const next = Buffer.allocUnsafe(Math.max(WRITER_MIN_BYTES, 2 * (buf?.length ?? 0), need));
      if (buf !== undefined && at > 0) buf.copy(next, 0, 0, at);
      this.buf = buf = next;
    }
    const bodyLen = body === undefined ? 0 : writeBody(buf, at + PREFIX_BYTES + hLen, body);
    const total = PREFIX_BYTES + hLen + bodyLen;
    tooLarge(total, max); // nothing appended: pos is unchanged
    SIGNATURE.copy(buf, at);
    buf.writeUInt32BE(this.legacy ? 8 + hLen + bodyLen : 13 + hLen + bodyLen, at + 13);
    buf.writeUInt32BE(hLen, at + 17);
    this.pos = at + total;
    return at + PREFIX_BYTES;
  }

  /** The frames added so far (a view of the buffer); call release() after writing it. */
  take(): Buffer {
    const out = this.buf!.subarray(0, this.pos);
    this.pos = 0;
    return out;
  }

  /** After the write of take()'s view: `reusable` = the socket no longer holds it. */
  release(reusable: boolean): void {
    if (!reusable || (this.buf !== undefined && this.buf.length > WRITER_KEEP_BYTES)) this.buf = undefined;
  }
}

const WRITER_MIN_BYTES = 4 * 1024;
const WRITER_KEEP_BYTES = 256 * 1024;

/** Text → bytes (exported for callers that build bodies). */
export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}

export class FrameDecoder {
  private readonly maxFrame: number;
  private readonly maxHeader: number;
  private readonly legacy: boolean;
  private chunks: Uint8Array[] = [];
  private first = 0; // read offset into chunks[0]
  private buffered = 0;
  /** Total and header length of the frame being read, once its prefix is in. */
  private total = -1;
  private headerLen = 0;
  private failed: EvmeshError | undefined;
  private readonly headers = new HeaderReader();

  constructor(opts: FrameOptions = {}) {
    this.maxFrame = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.legacy = opts.legacyLength ?? false;
  }

  /** Bytes received and not yet returned as frames. */
  get pending(): number { return this.buffered; }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
  }

  /** The next complete frame, or undefined when more bytes are needed. Throws EVM_BAD_FRAME /
   *  EVM_TOO_LARGE; after an error the decoder stays failed (the connection must close, T5). */
  next(): Frame | undefined {
    if (this.failed) throw this.failed;
    try {
      return this.step();
    } catch (err) {
      this.failed = err instanceof EvmeshError ? err : new EvmeshError('EVM_BAD_FRAME', String(err));
      this.chunks = [];
      this.buffered = 0;
      throw this.failed;
    }
  }

  private step(): Frame | undefined {
    if (this.total < 0 && !this.readPrefix()) return undefined;
    const total = this.total;
    if (this.buffered < total) return undefined;
    const headerLen = this.headerLen;
    this.total = -1;
    // Header and body are views of the received chunk (no Buffer for the whole frame, no copy
    // unless the frame spans chunks).
    const [bytes, at] = this.contiguous(total);
    this.skip(total);
    const h = at + PREFIX_BYTES, b = h + headerLen, end = at + total;
    const header = headerLen === 0 ? undefined : this.headers.read(bytes, h, b);
    const body = end > b ? bytes.subarray(b, end) : undefined;
    return { header, body };
  }

  /** Checks the (partial) prefix; once all 21 bytes are in, sets total and headerLen. */
  private readPrefix(): boolean {
    const n = Math.min(this.buffered, PREFIX_BYTES);
    if (n === 0) return false;
    const [p, at] = this.contiguous(n);
    // T5: magic/version mismatch is detected on the first wrong byte.
    const sig = Math.min(n, SIGNATURE.length);
    for (let i = 0; i < sig; i++) {
      if (p[at + i] !== SIGNATURE[i]) {
        throw new EvmeshError('EVM_BAD_FRAME', i < MAGIC.length ? 'bad magic (expected "EventMesh")' : 'bad version (expected "0000")');
      }
    }
    if (n < PREFIX_BYTES) return false;
    const length = u32be(p, at + 13);
    const headerLen = u32be(p, at + 17);
    // T3: length counts magic+version+header+body; T4 (legacy) counts both length fields instead.
    const fixed = this.legacy ? 8 : 13;
    if (length < fixed) throw new EvmeshError('EVM_BAD_FRAME', `length ${length} is below the minimum ${fixed}`);
    const total = length + (this.legacy ? 13 : 8);
    if (total > this.maxFrame) {
      throw new EvmeshError('EVM_TOO_LARGE', `frame of ${total} bytes exceeds the limit of ${this.maxFrame}`, { bytes: total, limit: this.maxFrame });
    }
    if (headerLen > length - fixed) throw new EvmeshError('EVM_BAD_FRAME', `headerLength ${headerLen} exceeds the frame length ${length}`);
    if (headerLen > this.maxHeader) {
      throw new EvmeshError('EVM_TOO_LARGE', `header of ${headerLen} bytes exceeds the limit of ${this.maxHeader}`, { bytes: headerLen, limit: this.maxHeader });
    }
    this.total = total;
    this.headerLen = headerLen;
    return true;
  }

  /** The first n buffered bytes as [bytes, offset]: the first chunk itself when it holds them,
   *  else a copy (offset 0). */
  private contiguous(n: number): [Uint8Array, number] {
    const c0 = this.chunks[0]!;
    if (c0.byteLength - this.first >= n) return [c0, this.first];
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (let i = 0; at < n; i++) {
      const c = this.chunks[i]!;
      const from = i === 0 ? this.first : 0;
      const m = Math.min(n - at, c.byteLength - from);
      out.set(c.subarray(from, from + m), at);
      at += m;
    }
    return [out, 0];
  }

  /** Drops the first n buffered bytes. */
  private skip(n: number): void {
    this.buffered -= n;
    let left = n;
    while (left > 0) {
      const avail = this.chunks[0]!.byteLength - this.first;
      if (avail > left) { this.first += left; break; }
      left -= avail;
      this.chunks.shift();
      this.first = 0;
    }
  }
}

function u32be(b: Uint8Array, at: number): number {
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}
