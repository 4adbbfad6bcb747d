// Sequential validated scan of a segment file: recovery of the active segment, rebuilding a
// missing or stale index, and the time search of offsetForTimestamp.
import { preadFull } from './io.js';
import { SparseIndex } from './index-file.js';
import { BATCH_HEADER_SIZE, type BatchHeader, checkBatch, firstTimestamp, peekBatch } from './record-batch.js';

const CHUNK = 1 << 20;

export interface ScanEnd {
  /** File position just after the last valid batch visited. */
  readonly end: number;
  /** Offset after the last valid batch (the next expected baseOffset). */
  readonly nextOffset: number;
  /** Why the scan stopped before `to`; undefined if it reached `to` (or the visitor stopped it). */
  readonly invalid?: string;
}

/**
 * Visits the complete, CRC-valid batches in [from, to) of `fd`, in order. The first batch must
 * start at `from` and have baseOffset `expectedBase` if given (batches must be contiguous).
 * `visit` returns true to stop early. `buf[p, p + h.size)` is the batch; `filePos` its position.
 */
export async function scanBatches(fd: number, from: number, to: number, expectedBase: number | undefined,
  visit: (buf: Buffer, p: number, h: BatchHeader, filePos: number) => boolean | void): Promise<ScanEnd> {
  let buf = Buffer.allocUnsafeSlow(Math.min(CHUNK, Math.max(to - from, 1)));
  let pos = from;
  let next = expectedBase;
  while (pos < to) {
    const n = await preadFull(fd, buf, 0, Math.min(buf.length, to - pos), pos);
    let p = 0;
    for (;;) {
      const h = peekBatch(buf, p, n);
      if (h === undefined) {
        if (to - (pos + p) < BATCH_HEADER_SIZE) return done(pos + p, next, 'truncated batch header');
        break; // the header straddles the chunk: re-read from p
      }
      if (h.size < BATCH_HEADER_SIZE) return done(pos + p, next, `batch length ${h.size - 4} is too small`);
      if (pos + p + h.size > to) return done(pos + p, next, 'truncated batch');
      if (p + h.size > n) {
        if (p === 0) buf = Buffer.allocUnsafeSlow(h.size); // a batch larger than the chunk
        break;
      }
      if (next !== undefined && h.baseOffset !== next) return done(pos + p, next, `batch baseOffset ${h.baseOffset}, expected ${next}`);
      const bad = checkBatch(buf, p, h);
      if (bad !== undefined) return done(pos + p, next, bad);
      next = h.baseOffset + h.count;
      if (visit(buf, p, h, pos + p) === true) return done(pos + p + h.size, next);
      p += h.size;
      if (pos + p >= to) return done(pos + p, next);
    }
    pos += p;
  }
  return done(pos, next);
}

function done(end: number, next: number | undefined, invalid?: string): ScanEnd {
  return invalid === undefined ? { end, nextOffset: next ?? -1 } : { end, nextOffset: next ?? -1, invalid };
}

export interface SegmentScan extends ScanEnd {
  readonly index: SparseIndex;
  readonly maxTimestamp: number;
  readonly firstTimestamp: number | undefined;
  readonly lastIndexedPosition: number;
}

/** Scans a whole segment, validating every batch and rebuilding its sparse index. */
export async function scanSegment(fd: number, size: number, baseOffset: number, indexIntervalBytes: number): Promise<SegmentScan> {
  const index = new SparseIndex();
  let maxTs = -1, firstTs: number | undefined, lastIndexed = -1;
  const r = await scanBatches(fd, 0, size, baseOffset, (buf, p, h, filePos) => {
    if (h.count === 0) return;
    const ts = firstTimestamp(buf, p);
    if (firstTs === undefined) firstTs = ts;
    if (ts > maxTs) maxTs = ts;
    if (lastIndexed < 0 || filePos - lastIndexed >= indexIntervalBytes) {
      index.add(h.baseOffset - baseOffset, filePos, maxTs);
      lastIndexed = filePos;
    }
  });
  return { ...r, nextOffset: r.end === 0 ? baseOffset : r.nextOffset, index, maxTimestamp: maxTs, firstTimestamp: firstTs, lastIndexedPosition: lastIndexed };
}
