// Reads core codec bytes (codec.ts grammar) straight into the CloudEvents binary-mode record
// (cloudevents-binding.ts), without decoding the event into an object first: decodeEvent alone
// was ~0.45 µs of toKafka's ~0.9 µs per 1 KiB event on the main thread, which runs every Kafka
// produce (STACK.md). Exactness: a value is scanned only when it is canonical — when
// encodeEvent(decodeEvent(value)) gives the same bytes back, which is what fromKafka rebuilds —
// anything else is stored raw. Canonical means: a specversion; minimal varints; each name once, not `data`
// (fromKafka drops it), array-index names (decodeEvent's object puts them first, ascending)
// already first and ascending; strings valid UTF-8; integers within the varint range; floats
// finite, not -0 and not integers the encoder would tag as varints.
import { Buffer } from 'node:buffer';
import { readUtf8 } from '../../core/bytes.js';
import { EVENT_MAGIC, EVENT_VERSION, FLAG_DATA, isVarintInteger, T_FALSE, T_FLOAT, T_INT, T_STRING, T_TRUE, unzigzag } from '../../core/codec.js';

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const f64Bytes = new Uint8Array(8);
const f64View = new DataView(f64Bytes.buffer);

export class EventScan {
  pos = 3;
  /** The last value() read: its string form, and its evmesh_types letter (undefined: a string). */
  text = '';
  type: 'i' | 'f' | 'b' | undefined;
  constructor(readonly buf: Uint8Array) {}

  /** True when the value starts like an encoded event (magic, version, known flags). */
  static looksLikeEvent(buf: Uint8Array): boolean {
    return buf.length >= 4 && buf[0] === EVENT_MAGIC && buf[1] === EVENT_VERSION && (buf[2]! & ~FLAG_DATA) === 0;
  }

  get hasData(): boolean { return (this.buf[2]! & FLAG_DATA) !== 0; }

  /** A minimal varint (putVarint never ends with a 0x00 group), or -1. */
  varint(): number {
    const buf = this.buf;
    let result = 0, mul = 1;
    for (let i = 0; i < 8 && this.pos < buf.length; i++) {
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return (b === 0 && i > 0) || result > Number.MAX_SAFE_INTEGER ? -1 : result;
      mul *= 128;
    }
    return -1;
  }

  /** An attribute name (1–255 of [a-z0-9]), or undefined. */
  name(): string | undefined {
    const buf = this.buf;
    const n = buf[this.pos];
    if (n === undefined || n === 0 || n >= buf.length - this.pos) return undefined;
    const start = this.pos + 1, end = start + n;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) return undefined;
    }
    this.pos = end;
    return readUtf8(buf, start, end);
  }

  /** Reads the attribute value after a name into `text` and `type`; false when it is not
   *  canonical. */
  value(): boolean {
    const buf = this.buf;
    const tag = buf[this.pos++];
    this.type = undefined;
    switch (tag) {
      case T_STRING: {
        const n = this.varint();
        if (n < 0 || n > buf.length - this.pos) return false;
        const start = this.pos, end = start + n;
        this.pos = end;
        for (let i = start; i < end; i++) {
          if (buf[i]! >= 0x80) {
            try { this.text = fatalUtf8.decode(buf.subarray(start, end)); return true; } catch { return false; }
          }
        }
        this.text = readUtf8(buf, start, end);
        return true;
      }
      case T_INT: {
        const z = this.varint();
        const v = z < 0 ? NaN : unzigzag(z);
        if (!isVarintInteger(v)) return false;
        this.text = String(v);
        this.type = 'i';
        return true;
      }
      case T_FLOAT: {
        if (this.pos + 8 > buf.length) return false;
        for (let i = 0; i < 8; i++) f64Bytes[i] = buf[this.pos + i]!;
        this.pos += 8;
        const v = f64View.getFloat64(0, true);
        if (!Number.isFinite(v) || Object.is(v, -0) || isVarintInteger(v)) return false;
        this.text = String(v);
        this.type = Number.isInteger(v) ? 'i' : 'f';
        return true;
      }
      case T_TRUE: case T_FALSE:
        this.text = tag === T_TRUE ? 'true' : 'false';
        this.type = 'b';
        return true;
      default: return false;
    }
  }

  /** The data after the attributes (a view), null when the event has none, undefined when the
   *  bytes do not end exactly there. */
  data(): Buffer | null | undefined {
    if (!this.hasData) return this.pos === this.buf.length ? null : undefined;
    const n = this.varint();
    if (n < 0 || n !== this.buf.length - this.pos) return undefined;
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n);
  }
}

/** Names a JS object orders first, ascending (array indices: canonical decimal below 2^32 − 1). */
export function arrayIndex(name: string): number {
  const c = name.charCodeAt(0);
  if (c < 48 || c > 57 || (c === 48 && name.length > 1) || name.length > 10) return -1;
  for (let i = 1; i < name.length; i++) {
    const d = name.charCodeAt(i);
    if (d < 48 || d > 57) return -1;
  }
  const n = Number(name);
  return n < 4294967295 ? n : -1;
}
