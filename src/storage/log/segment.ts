// One segment of a partition log: `<base>.log` (record batches) + `<base>.index` (sparse index),
// both named by the segment's base offset as 20 zero-padded digits. Holds the mutable state the
// partition tracks for it; file I/O lives in partition.ts and segment-scan.ts.
import { join } from 'node:path';
import type { SparseIndex } from './index-file.js';

export const SEGMENT_NAME = /^(\d{20})\.log$/;

export function segmentBaseName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

export class Segment {
  readonly logPath: string;
  readonly indexPath: string;
  /** Bytes of complete batches written to the file. */
  size: number;
  /** Bytes readers may see: batches whose append has resolved. */
  readable: number;
  /** Loaded lazily for old segments; always present for the active one. */
  index: SparseIndex | undefined;
  indexLoading: Promise<SparseIndex> | undefined;
  /** Position of the last index entry (active segment: when the next entry is due). */
  lastIndexedPosition = -1;
  /** Largest record timestamp; -1 while unknown (an old segment found on open). */
  maxTimestamp = -1;
  /** Timestamp of the first record; undefined until read (or if the segment is empty). */
  firstTimestamp: number | undefined;
  /** Open fd (read-write for the active segment, read-only otherwise) or -1. */
  fd = -1;
  fdOpening: Promise<number> | undefined;
  /** In-flight operations using `fd`; it is closed only when this drops to 0. */
  refs = 0;
  /** Close the fd when refs drop to 0 (evicted from the read cache, deleted, or partition closed). */
  closeWhenIdle = false;

  constructor(dir: string, readonly baseOffset: number, size: number) {
    const base = join(dir, segmentBaseName(baseOffset));
    this.logPath = `${base}.log`;
    this.indexPath = `${base}.index`;
    this.size = size;
    this.readable = size;
  }
}
