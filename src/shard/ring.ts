// Single-producer/single-consumer ring of variable-length messages in a SharedArrayBuffer
// (DESIGN §1: the cross-shard path). Pure: no I/O, no timers, no waiting — the doorbells that
// wake a sleeping thread live in ring-mesh.ts.
//
// Buffer layout: a 256-byte control block, then the data area of `capacity` bytes (a power of
// two). Control words (Int32, each on its own 64-byte line so producer and consumer do not share
// a cache line):
//   HEAD             read position, written only by the consumer
//   TAIL             write position, written only by the producer (published with Atomics.store)
//   PRODUCER_WAITING 1 when the producer found the ring full and wants a wake-up once drained
//   CAPACITY         data area size, for attaching to an existing buffer
// Positions are free-running 32-bit counters (wrapping at 2^32); index = position & (capacity-1).
//
// A record is a 4-byte native-endian length word followed by the payload, padded to 4 bytes. Bit
// 30 of the length word (MORE) marks a fragment of a longer message that continues in the next
// record (ring-mesh.ts splits messages above maxMessageBytes and joins them again). A record
// never wraps: when it does not fit before the end of the data area, the producer writes a SKIP
// length there and starts the record at offset 0, so every message is one contiguous slice.
//
// Memory ordering: the producer writes the record with plain stores and only then publishes with
// Atomics.store(TAIL); the consumer Atomics.load(TAIL)s before reading records and Atomics.store(HEAD)s
// after it is done with them. JS atomics are sequentially consistent, which orders the plain
// accesses around them (ECMAScript memory model, synchronizes-with on the same location).
import { EvmeshError } from '../errors.js';

export const RING_CONTROL_BYTES = 256;
export const DEFAULT_RING_BYTES = 1 << 20;
export const MIN_RING_BYTES = 64;
export const MAX_RING_BYTES = 1 << 30;

/** Int32 indexes of the control words (exported for tests that start positions near 2^32). */
export const RING_HEAD = 0;
export const RING_TAIL = 16;
export const RING_PRODUCER_WAITING = 32;
const RING_CAPACITY = 48;

const HEADER = 4;
const SKIP = -1;
/** Length-word flag: this record is a fragment and the message continues in the next record. */
const MORE = 0x40000000;
const LEN_MASK = MORE - 1;

/** Receives one record: a view of its payload, and whether it is a non-final fragment. */
export type RecordFn = (bytes: Uint8Array, more: boolean) => void;

function recordBytes(len: number): number {
  return HEADER + ((len + 3) & ~3);
}

export class Ring {
  readonly buffer: SharedArrayBuffer;
  /** Data area size in bytes. */
  readonly capacity: number;
  /** Largest payload `stage`/`tryWrite` accept: capacity/2 minus the 4-byte record header, the
   *  most that always fits once the ring is empty, wherever the positions are. */
  readonly maxMessageBytes: number;
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  // Producer-local: the tail including staged (not yet published) records, and the last head seen.
  private stagedTail: number;
  private cachedHead: number;

  /** Allocates a new ring with a data area of `capacity` bytes (a power of two, 64 B … 1 GiB). */
  static create(capacity: number = DEFAULT_RING_BYTES): Ring {
    if (!Number.isInteger(capacity) || capacity < MIN_RING_BYTES || capacity > MAX_RING_BYTES || (capacity & (capacity - 1)) !== 0) {
      throw new EvmeshError('EVM_BAD_CONFIG', `ring capacity must be a power of two between ${MIN_RING_BYTES} and ${MAX_RING_BYTES} bytes`, { capacity });
    }
    const buffer = new SharedArrayBuffer(RING_CONTROL_BYTES + capacity);
    new Int32Array(buffer, 0, RING_CONTROL_BYTES / 4)[RING_CAPACITY] = capacity;
    return new Ring(buffer);
  }

  /** Attaches to a ring buffer made by `Ring.create` (in this thread or another). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.ctl = new Int32Array(buffer, 0, RING_CONTROL_BYTES / 4);
    this.capacity = this.ctl[RING_CAPACITY]!;
    if (buffer.byteLength !== RING_CONTROL_BYTES + this.capacity) {
      throw new EvmeshError('EVM_INTERNAL', 'not a ring buffer', { byteLength: buffer.byteLength });
    }
    this.bytes = new Uint8Array(buffer, RING_CONTROL_BYTES, this.capacity);
    this.words = new Int32Array(buffer, RING_CONTROL_BYTES, this.capacity / 4);
    this.mask = this.capacity - 1;
    this.maxMessageBytes = this.capacity / 2 - HEADER;
    this.stagedTail = Atomics.load(this.ctl, RING_TAIL);
    this.cachedHead = Atomics.load(this.ctl, RING_HEAD);
  }

  // ---- producer side ----

  /** Copies `msg` into the ring without publishing it (see `publish`). Returns false, writing
   *  nothing, when there is no room. Throws EVM_TOO_LARGE above `maxMessageBytes`. */
  stage(msg: Uint8Array, more = false): boolean {
    const len = msg.length;
    if (len > this.maxMessageBytes) {
      throw new EvmeshError('EVM_TOO_LARGE', `message of ${len} bytes exceeds the ring limit of ${this.maxMessageBytes}`, { size: len, limit: this.maxMessageBytes });
    }
    const rec = recordBytes(len);
    let tail = this.stagedTail;
    let idx = tail & this.mask;
    const toEnd = this.capacity - idx;
    const need = rec <= toEnd ? rec : toEnd + rec;
    if (((tail - this.cachedHead) >>> 0) + need > this.capacity) {
      this.cachedHead = Atomics.load(this.ctl, RING_HEAD);
      if (((tail - this.cachedHead) >>> 0) + need > this.capacity) return false;
    }
    if (rec > toEnd) {
      this.words[idx >> 2] = SKIP;
      tail = (tail + toEnd) | 0;
      idx = 0;
    }
    this.words[idx >> 2] = more ? len | MORE : len;
    this.bytes.set(msg, idx + HEADER);
    this.stagedTail = (tail + rec) | 0;
    return true;
  }

  /** Makes every staged record visible to the consumer at once (one Atomics.store). */
  publish(): void {
    Atomics.store(this.ctl, RING_TAIL, this.stagedTail);
  }

  /** True when records were staged since the last `publish`. */
  hasStaged(): boolean {
    return this.stagedTail !== Atomics.load(this.ctl, RING_TAIL);
  }

  /** Stage + publish one message. False (nothing written) when full. */
  tryWrite(msg: Uint8Array): boolean {
    if (!this.stage(msg)) return false;
    this.publish();
    return true;
  }

  /** Stages `msgs[start…]` until one does not fit, publishes them in one store, and returns how
   *  many were written (the consumer sees the whole batch at once). */
  writeMany(msgs: readonly Uint8Array[], start = 0): number {
    let i = start;
    while (i < msgs.length && this.stage(msgs[i]!)) i++;
    if (i > start) this.publish();
    return i - start;
  }

  /** Producer: asks the consumer for a wake-up after its next drain (see ring-mesh.ts). */
  markProducerWaiting(): void {
    Atomics.store(this.ctl, RING_PRODUCER_WAITING, 1);
  }

  isProducerWaiting(): boolean {
    return Atomics.load(this.ctl, RING_PRODUCER_WAITING) === 1;
  }

  // ---- consumer side ----

  /** Consumer: clears the producer-waiting flag; true when it was set (the caller wakes the producer). */
  takeProducerWaiting(): boolean {
    return Atomics.load(this.ctl, RING_PRODUCER_WAITING) === 1 &&
      Atomics.compareExchange(this.ctl, RING_PRODUCER_WAITING, 1, 0) === 1;
  }

  /** True when published records are waiting to be drained. */
  hasData(): boolean {
    return Atomics.load(this.ctl, RING_TAIL) !== Atomics.load(this.ctl, RING_HEAD);
  }

  /** Published bytes not yet drained (records, headers and padding included). */
  usedBytes(): number {
    return (Atomics.load(this.ctl, RING_TAIL) - Atomics.load(this.ctl, RING_HEAD)) >>> 0;
  }

  /** Calls `fn` with every published message, in order, and returns how many. The views point
   *  into shared memory and are valid only during the call: the space is released when drain
   *  returns (or throws — messages up to and including the one whose callback threw count as
   *  consumed). Copy anything you keep, or use `drainCopy`. */
  drain(fn: RecordFn): number {
    let head = Atomics.load(this.ctl, RING_HEAD);
    const tail = Atomics.load(this.ctl, RING_TAIL);
    let n = 0;
    try {
      while (head !== tail) {
        const idx = head & this.mask;
        const word = this.words[idx >> 2]!;
        if (word === SKIP) {
          head = (head + this.capacity - idx) | 0;
          continue;
        }
        const len = word & LEN_MASK;
        head = (head + recordBytes(len)) | 0;
        n++;
        fn(this.bytes.subarray(idx + HEADER, idx + HEADER + len), word !== len);
      }
    } finally {
      Atomics.store(this.ctl, RING_HEAD, head);
    }
    return n;
  }

  /** Like `drain`, but first copies the published region (one copy per contiguous segment, at
   *  most two) into private memory and releases the ring space before calling `fn`; the
   *  messages are views of that private copy, safe to keep. `released` runs once the space is
   *  free, before the first `fn` (the mesh wakes a waiting producer there, so it refills the
   *  ring while we process). If `fn` throws, the rest of the copied messages are lost. */
  drainCopy(fn: RecordFn, released?: () => void): number {
    const head = Atomics.load(this.ctl, RING_HEAD);
    const tail = Atomics.load(this.ctl, RING_TAIL);
    if (head === tail) return 0;
    const used = (tail - head) >>> 0;
    const idx = head & this.mask;
    const firstLen = Math.min(used, this.capacity - idx);
    const first = this.bytes.slice(idx, idx + firstLen);
    const second = used > firstLen ? this.bytes.slice(0, used - firstLen) : undefined;
    Atomics.store(this.ctl, RING_HEAD, tail);
    released?.();
    let n = parseRecords(first, fn);
    if (second !== undefined) n += parseRecords(second, fn);
    return n;
  }

  /** Messages published or staged but not yet drained (walks the records; for accounting when a
   *  peer is replaced, not for the hot path). */
  pendingMessages(): number {
    let head = Atomics.load(this.ctl, RING_HEAD);
    const tail = this.stagedTail;
    let n = 0;
    while (head !== tail) {
      const idx = head & this.mask;
      const word = this.words[idx >> 2]!;
      if (word === SKIP) {
        head = (head + this.capacity - idx) | 0;
        continue;
      }
      head = (head + recordBytes(word & LEN_MASK)) | 0;
      n++;
    }
    return n;
  }
}

/** Hands out the records of a private copy of one contiguous segment (ends at its end or at SKIP). */
function parseRecords(chunk: Uint8Array, fn: RecordFn): number {
  const words = new Int32Array(chunk.buffer, chunk.byteOffset, chunk.length >> 2);
  let off = 0;
  let n = 0;
  while (off < chunk.length) {
    const word = words[off >> 2]!;
    if (word === SKIP) break;
    const len = word & LEN_MASK;
    n++;
    fn(chunk.subarray(off + HEADER, off + HEADER + len), word !== len);
    off += recordBytes(len);
  }
  return n;
}
