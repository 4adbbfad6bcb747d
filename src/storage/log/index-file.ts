// Sparse offset + time index of one segment (pure, no I/O). An entry is written for the first
// batch of a segment and then for the first batch starting at least `indexIntervalBytes` after
// the previous entry. File `<base>.index`, entries of 16 bytes, big-endian:
//
//   entry = relativeOffset:u32 position:u32 maxTimestamp:u64
//
// relativeOffset = batch baseOffset - segment base offset; position = byte position of the batch
// in the .log file; maxTimestamp = largest record timestamp in the segment up to and including
// that batch (non-decreasing, so binary search by time works even if a caller passes timestamps
// out of order).
import { readU64, writeU64 } from './record-batch.js';

export const INDEX_ENTRY_SIZE = 16;

export class SparseIndex {
  length = 0;
  private rel = new Uint32Array(16);
  private pos = new Uint32Array(16);
  private ts = new Float64Array(16);

  add(relativeOffset: number, position: number, maxTimestamp: number): void {
    if (this.length === this.rel.length) {
      const grow = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.rel = grow(this.rel, (n) => new Uint32Array(n));
      this.pos = grow(this.pos, (n) => new Uint32Array(n));
      this.ts = grow(this.ts, (n) => new Float64Array(n));
    }
    this.rel[this.length] = relativeOffset;
    this.pos[this.length] = position;
    this.ts[this.length] = maxTimestamp;
    this.length++;
  }

  relativeOffsetAt(i: number): number { return this.rel[i]!; }
  positionAt(i: number): number { return this.pos[i]!; }
  timestampAt(i: number): number { return this.ts[i]!; }
  get lastPosition(): number { return this.length === 0 ? -1 : this.pos[this.length - 1]!; }

  /** Byte position of the last indexed batch whose base relative offset is <= `rel` (0 if none). */
  positionForOffset(rel: number): number {
    let lo = 0, hi = this.length; // first entry with rel > target
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel[mid]! <= rel) lo = mid + 1; else hi = mid;
    }
    return lo === 0 ? 0 : this.pos[lo - 1]!;
  }

  /** Byte position of the last indexed batch whose maxTimestamp is < `ts` (0 if none): every
   *  record before that batch has a timestamp < ts. */
  positionBeforeTimestamp(ts: number): number {
    let lo = 0, hi = this.length; // first entry with maxTimestamp >= ts
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < ts) lo = mid + 1; else hi = mid;
    }
    return lo === 0 ? 0 : this.pos[lo - 1]!;
  }

  encode(): Buffer {
    const buf = Buffer.allocUnsafe(this.length * INDEX_ENTRY_SIZE);
    for (let i = 0; i < this.length; i++) {
      const p = i * INDEX_ENTRY_SIZE;
      buf.writeUInt32BE(this.rel[i]!, p);
      buf.writeUInt32BE(this.pos[i]!, p + 4);
      writeU64(buf, p + 8, this.ts[i]!);
    }
    return buf;
  }

  /** Parses an index file; undefined when it is not a plausible index of a segment of
   *  `segmentSize` bytes (then it is rebuilt from the segment). */
  static decode(buf: Buffer, segmentSize: number): SparseIndex | undefined {
    if (buf.length % INDEX_ENTRY_SIZE !== 0) return undefined;
    const idx = new SparseIndex();
    for (let p = 0; p < buf.length; p += INDEX_ENTRY_SIZE) {
      const rel = buf.readUInt32BE(p), pos = buf.readUInt32BE(p + 4), ts = readU64(buf, p + 8);
      const n = idx.length;
      if (ts < 0 || pos >= segmentSize) return undefined;
      if (n === 0 ? rel !== 0 || pos !== 0 : rel <= idx.rel[n - 1]! || pos <= idx.pos[n - 1]! || ts < idx.ts[n - 1]!) return undefined;
      idx.add(rel, pos, ts);
    }
    if (idx.length === 0 && segmentSize > 0) return undefined;
    return idx;
  }
}
