// Byte-level building blocks shared by the event codec (codec.ts) and the node-to-node message
// codec (messages.ts): a growable writer and a bounds-checked reader. Integers are unsigned
// LEB128 varints up to 2^53-1 (offsets, counts, ids); every read past the end or malformed
// varint throws EVM_CORRUPT, never a RangeError.
import { Buffer } from 'node:buffer';
import { EvmeshError } from '../errors.js';

const TWO_32 = 4294967296;

const utf8Decoder = new TextDecoder();

/** Direct-mapped cache of short ASCII strings decoded recently, keyed by (length, first,
 *  middle and last byte: internSlot). Attribute names and many values repeat in every event
 *  (specversion "1.0", source, type, names): returning the cached string after comparing its
 *  bytes costs ~18 ns, building it again ~70 ns plus the garbage (measured with 10 typical
 *  attribute strings, Node 20). */
const INTERN_SLOTS = 512;
const INTERN_MAX = 32;
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');

/** FNV-1a over (length, first, middle, last byte). The former linear key collided for common
 *  attribute names (type/time, idc/p, sys/ttl: each pair evicting the other in every event, ~145
 *  B/event of rebuilt strings in the gRPC bench); over 43 typical names 4 collisions → 1; 30 names
 *  decoded in turn: 19.9–20.2 → 17.9–19.0 ns per string. */
function internSlot(n: number, first: number, mid: number, last: number): number {
  let h = Math.imul(0x811c9dc5 ^ n, 16777619);
  h = Math.imul(h ^ first, 16777619);
  h = Math.imul(h ^ mid, 16777619);
  h = Math.imul(h ^ last, 16777619);
  return (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
}

/** Decodes buf[start, end) as UTF-8 (invalid sequences become U+FFFD). Short ASCII strings are
 *  built by hand (and interned): TextDecoder/Buffer#toString cost ~100 ns per call. */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > INTERN_MAX) return utf8Decoder.decode(buf.subarray(start, end));
  const slot = internSlot(n, buf[start]!, buf[start + (n >> 1)]!, buf[end - 1]!);
  const c = interned[slot]!;
  if (c.length === n) {
    let i = 0;
    while (i < n && c.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return c;
  }
  let s = '';
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return utf8Decoder.decode(buf.subarray(start, end));
    s += String.fromCharCode(b);
  }
  interned[slot] = s;
  return s;
}

/** Writes `s` as UTF-8 at `off` (room for 3 bytes per UTF-16 unit must exist); returns bytes
 *  written. Short ASCII strings are copied by hand (see readUtf8). */
export function writeUtf8(buf: Buffer, off: number, s: string): number {
  const n = s.length;
  if (n <= 64) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[off + i] = c;
    }
    if (i === n) return n;
  }
  return buf.write(s, off, 'utf8');
}

/** UTF-8 byte length of `s` (ASCII fast path). */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n <= 64) {
    let i = 0;
    for (; i < n; i++) if (s.charCodeAt(i) >= 0x80) break;
    if (i === n) return n;
  }
  return Buffer.byteLength(s, 'utf8');
}

/** A buffer at least twice as large with room for `extra` bytes after the first `used`, which
 *  are copied over (ByteWriter). */
export function growBuffer(buf: Buffer, used: number, extra: number): Buffer {
  let size = Math.max(buf.length * 2, 64);
  while (size < used + extra) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, used);
  return next;
}

export function corrupt(what: string): EvmeshError {
  return new EvmeshError('EVM_CORRUPT', `malformed bytes: ${what}`);
}

/** Bytes a varint of `n` (0 <= n <= 2^53-1) takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) { n = Math.floor(n / 128); size++; }
  return size;
}

/** Writes `n` at `off` into `buf`, returns the new offset. */
export function putVarint(buf: Uint8Array, off: number, n: number): number {
  while (n >= 128) {
    buf[off++] = (n & 0x7f) | 0x80;
    n = n < TWO_32 ? n >>> 7 : Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

export class ByteWriter {
  buf: Buffer;
  pos = 0;
  /** Strings already written by `ref` in this message, for back-references. */
  private refs: Map<string, number> | undefined;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Starts a new message in the same buffer (with room for `size` bytes); a buffer grown
   *  beyond `keepMax` bytes by an earlier large message is dropped instead of kept. */
  reset(size: number, keepMax: number): void {
    this.pos = 0;
    this.refs = undefined;
    if (this.buf.length > keepMax && size <= keepMax) this.buf = Buffer.allocUnsafe(Math.max(size, 256));
    else this.ensure(size);
  }

  ensure(extra: number): void {
    if (this.pos + extra > this.buf.length) this.buf = growBuffer(this.buf, this.pos, extra);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new EvmeshError('EVM_INTERNAL', `varint out of range: ${n}`);
    this.ensure(8);
    this.pos = putVarint(this.buf, this.pos, n);
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Length-prefixed UTF-8 string. */
  str(s: string): void {
    const max = s.length * 3;
    this.ensure(max + 5);
    // Reserve the maximum varint width for the length, then compact if the guess was too big.
    if (max < 128) {
      const n = writeUtf8(this.buf, this.pos + 1, s);
      this.buf[this.pos] = n;
      this.pos += 1 + n;
    } else {
      const n = Buffer.byteLength(s);
      this.pos = putVarint(this.buf, this.pos, n);
      this.pos += this.buf.write(s, this.pos, 'utf8');
    }
  }

  /** A string that is likely repeated in this message (topic, group, member id): the first
   *  occurrence is written as `0 str`, later ones as `index+1` (varint). */
  ref(s: string): void {
    const refs = (this.refs ??= new Map());
    const i = refs.get(s);
    if (i !== undefined) { this.varint(i + 1); return; }
    refs.set(s, refs.size);
    this.u8(0);
    this.str(s);
  }

  /** Length-prefixed raw bytes. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length + 8);
    this.pos = putVarint(this.buf, this.pos, b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The written bytes (a view over the writer's buffer, valid until the writer is reset). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

const f64Bytes = new Uint8Array(8);
const f64View = new DataView(f64Bytes.buffer);

/** Bounds-checked reader over a plain Uint8Array: no Buffer views are created (a Buffer view per
 *  event cost ~7% of a single-thread profile of the publish → deliver path). */
export class ByteReader {
  readonly buf: Uint8Array;
  pos: number;
  private refs: string[] | undefined;

  constructor(bytes: Uint8Array, pos = 0) {
    this.buf = bytes;
    this.pos = pos;
  }

  get remaining(): number { return this.buf.length - this.pos; }

  u8(): number {
    if (this.pos >= this.buf.length) throw corrupt('truncated (u8)');
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let result = 0, mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw corrupt('truncated (varint)');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw corrupt('varint above 2^53');
        return result;
      }
      mul *= 128;
    }
    throw corrupt('varint too long');
  }

  /** float64, little endian. */
  f64(): number {
    if (this.pos + 8 > this.buf.length) throw corrupt('truncated (f64)');
    for (let i = 0; i < 8; i++) f64Bytes[i] = this.buf[this.pos + i]!;
    this.pos += 8;
    return f64View.getFloat64(0, true);
  }

  str(): string {
    const n = this.varint();
    if (n > this.buf.length - this.pos) throw corrupt('truncated (string)');
    const s = readUtf8(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  ref(): string {
    const refs = (this.refs ??= []);
    const tag = this.varint();
    if (tag === 0) {
      const s = this.str();
      refs.push(s);
      return s;
    }
    const s = refs[tag - 1];
    if (s === undefined) throw corrupt('string back-reference out of range');
    return s;
  }

  /** Length-prefixed bytes as a view (no copy). */
  bytes(): Uint8Array {
    const n = this.varint();
    if (n > this.buf.length - this.pos) throw corrupt('truncated (bytes)');
    const b = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return b;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw corrupt(`${this.buf.length - this.pos} trailing bytes`);
  }
}
