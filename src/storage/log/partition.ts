// One partition of the embedded log: a directory of segments, the group-commit writer, reads,
// time search and retention (DESIGN §3, docs/storage.md). Only the owner shard calls it, so all
// state is plain fields; the writer is a serial loop that takes every append queued since its
// last turn and writes them with one vectored write.
import { mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EvmeshError } from '../../errors.js';
import type { AppendResult, StoredRecord } from '../types.js';
import { SparseIndex } from './index-file.js';
import { threadMetrics } from '../../metrics/shard.js';
import { closeFd, fdatasync as rawFdatasync, fstatSize, fsyncDir, ftruncate, isErrno, openFd, preadFull, writevAt, writevAtSync, writeFileDurably } from './io.js';
import type { ResolvedLogOptions } from './options.js';
import { BATCH_HEADER_SIZE, BatchEncoder, RECORD_HEADER_SIZE, batchSize, checkBatch, peekBatch, readU64 } from './record-batch.js';
import { SEGMENT_NAME, Segment, segmentBaseName } from './segment.js';
import { scanBatches, scanSegment } from './segment-scan.js';
import { GroupCommit } from './group-commit.js';

interface PendingAppend {
  readonly values: readonly Uint8Array[];
  readonly timestamp: number;
  readonly size: number;
  readonly stageBytes: number;
  baseOffset: number;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

/** Old (non-active) segments whose fds stay open for readers, per partition. */
const READ_FDS = 2;
/** Bytes a read fetches beyond the soft limit when the caller gives no maxBytes. */
const DEFAULT_READ_BYTES = 1 << 20;
const MAX_READ_BYTES = 64 << 20;
/** Values below this size are copied next to their headers; larger ones are written in place
 *  (docs/storage.md "I/O path": an iovec costs more than copying a small value). */
const COPY_BELOW = 4096;
/** fsync 'never': once this many bytes are written since the last fdatasync, one starts beside the
 *  writer, so that sealing a segment on roll waits for little writeback. Measured
 *  (bench/log-append.ts, 128 MiB segments): without it the roll's fdatasync took ~70 ms each and
 *  stalled the partition's appends for ~31 % of the run. */
const WRITEBACK_BYTES = 16 << 20;

export class Partition {
  private readonly segments: Segment[] = [];
  private readonly readCache: Segment[] = [];
  private readonly appends = new GroupCommit<PendingAppend>((group) => this.writeAppends(group));
  /** Next offset to assign; offsets below `end` are written and acknowledged. */
  private nextOffset = 0;
  private ackedEnd = 0;
  /** Bytes written since the last fdatasync started (> 0: the active segment is dirty). */
  private unsyncedBytes = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncInFlight: Promise<void> | undefined;
  private retention: Promise<void> = Promise.resolve();
  private failure: EvmeshError | undefined;
  private closed = false;
  private scratch = Buffer.allocUnsafeSlow(4096);
  /** The last bytes a read fetched, kept for the next read (see read()). */
  private lastRead: LastRead | undefined;

  private constructor(private readonly dir: string, private readonly label: string, private readonly o: ResolvedLogOptions) {}

  /** Opens (creating if needed) and recovers the partition in `dir`. */
  static async open(dir: string, label: string, o: ResolvedLogOptions): Promise<Partition> {
    const p = new Partition(dir, label, o);
    await p.recover();
    return p;
  }

  get start(): number { return this.segments[0]!.baseOffset; }
  /** An I/O error left the files in an unknown state: close and reopen to recover. */
  get failed(): boolean { return this.failure !== undefined; }
  get end(): number { return this.ackedEnd; }
  private get active(): Segment { return this.segments[this.segments.length - 1]!; }

  // --- recovery ------------------------------------------------------------------------------

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = await readdir(this.dir);
    const bases: number[] = [];
    for (const name of names) {
      const m = SEGMENT_NAME.exec(name);
      if (m) bases.push(Number(m[1]));
      else if (name.endsWith('.tmp')) await unlink(join(this.dir, name)).catch(() => {});
    }
    bases.sort((a, b) => a - b);
    const live = new Set(bases.map((b) => `${segmentBaseName(b)}.index`));
    for (const name of names) {
      if (name.endsWith('.index') && !live.has(name)) await unlink(join(this.dir, name)).catch(() => {}); // orphan of a deleted segment
    }
    if (bases.length === 0) {
      const seg = new Segment(this.dir, 0, 0);
      seg.fd = await openFd(seg.logPath, 'wx+');
      seg.index = new SparseIndex();
      this.segments.push(seg);
      await fsyncDir(this.dir);
      return;
    }
    for (let i = 0; i < bases.length - 1; i++) {
      const seg = new Segment(this.dir, bases[i]!, 0);
      seg.size = seg.readable = (await stat(seg.logPath)).size;
      this.segments.push(seg);
    }
    const last = new Segment(this.dir, bases[bases.length - 1]!, 0);
    last.fd = await openFd(last.logPath, 'r+');
    const size = await fstatSize(last.fd);
    const scan = await scanSegment(last.fd, size, last.baseOffset, this.o.indexIntervalBytes);
    if (scan.end < size) {
      // A torn or corrupt tail: keep the valid prefix (docs/storage.md "Recovery").
      await ftruncate(last.fd, scan.end);
      await fdatasync(last.fd);
    }
    last.size = last.readable = scan.end;
    last.index = scan.index;
    last.lastIndexedPosition = scan.lastIndexedPosition;
    last.maxTimestamp = scan.maxTimestamp;
    last.firstTimestamp = scan.firstTimestamp;
    this.segments.push(last);
    this.nextOffset = this.ackedEnd = scan.nextOffset;
  }

  // --- append (group commit) -----------------------------------------------------------------

  append(values: readonly Uint8Array[], timestamp: number): Promise<AppendResult> {
    this.checkUsable();
    const size = values.length === 0 ? 0 : batchSize(values);
    if (size > this.o.maxBatchBytes) {
      return Promise.reject(new EvmeshError('EVM_TOO_LARGE', `batch of ${size} bytes exceeds maxBatchBytes ${this.o.maxBatchBytes}`));
    }
    return new Promise<AppendResult>((resolve, reject) => {
      const stageBytes = values.length === 0 ? 0 : BatchEncoder.stageBytes(values, COPY_BELOW);
      this.appends.push({ values, timestamp, size, stageBytes, baseOffset: -1, resolve, reject });
    });
  }

  private async writeAppends(group: PendingAppend[]): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      const t0 = performance.now();
      await this.writeGroup(group);
      // One observation per group commit (not per event): evmesh_storage_* in docs/metrics.md.
      const m = threadMetrics.storage;
      m.appendSeconds.observe((performance.now() - t0) / 1000);
      let bytes = 0;
      for (const a of group) bytes += a.size;
      m.appendedBytes.inc(bytes);
      for (const a of group) a.resolve({ baseOffset: a.baseOffset, count: a.values.length });
    } catch (err) {
      const e = this.fail(err);
      for (const a of group) a.reject(e);
    }
  }

  private async writeGroup(group: PendingAppend[]): Promise<void> {
    let stageBytes = 0;
    for (const a of group) stageBytes += a.stageBytes;
    if (this.scratch.length < stageBytes) this.scratch = Buffer.allocUnsafeSlow(Math.max(stageBytes, this.scratch.length * 2));
    let seg = this.active;
    let enc = new BatchEncoder(this.scratch, COPY_BELOW);
    let run = 0; // bytes encoded for `seg` and not yet written
    let wrote = false;
    for (const a of group) {
      if (a.values.length === 0) { a.baseOffset = this.nextOffset; continue; }
      if (seg.size + run > 0 && seg.size + run + a.size > this.o.segmentBytes) {
        if (run > 0) await this.writeRun(seg, enc.finish(), run);
        enc = new BatchEncoder(this.scratch, COPY_BELOW); // the previous run is written: reuse the stage
        run = 0;
        seg = await this.roll();
      }
      const position = seg.size + run;
      a.baseOffset = this.nextOffset;
      enc.add(a.values, a.baseOffset, a.timestamp);
      if (a.timestamp > seg.maxTimestamp) seg.maxTimestamp = a.timestamp;
      if (seg.firstTimestamp === undefined) seg.firstTimestamp = a.timestamp;
      if (seg.lastIndexedPosition < 0 || position - seg.lastIndexedPosition >= this.o.indexIntervalBytes) {
        seg.index!.add(a.baseOffset - seg.baseOffset, position, seg.maxTimestamp);
        seg.lastIndexedPosition = position;
      }
      run += a.size;
      wrote = true;
      this.nextOffset += a.values.length;
    }
    if (run > 0) await this.writeRun(seg, enc.finish(), run);
    // 'always': this group's own fdatasync, whatever a concurrent flush() did with `unsyncedBytes`.
    if (this.o.fsync === 'always' && wrote) await fdatasync(seg.fd);
    seg.readable = seg.size;
    this.ackedEnd = this.nextOffset;
    if (this.o.fsync === 'interval' && this.unsyncedBytes > 0) this.scheduleSync();
    if (this.o.fsync === 'never' && this.unsyncedBytes >= WRITEBACK_BYTES && !this.syncInFlight) {
      void this.syncActive().catch(() => {}); // failure is recorded by syncActive
    }
  }

  /** Under `interval` and `never` no append waits for an fdatasync, so the group's write is only
   *  a page-cache copy (~20–50 µs per 100 KiB). With `inlineWrites` (the broker, when its shards
   *  occupy every core) it is made on the appending thread: through the pool it was the largest
   *  stage of tcp-binary's publish → push tail on the shared 2-core machine (append stage p50/p99
   *  19/211 and 125/294 ms vs 0.19/6.4 and 0.20/19 ms inline, load ~13), and inline the quiet
   *  broker benches gained 13–22 % (tcp-eventmesh 103k → 126k/s, http binary 59k → 67k/s). A lone
   *  appender with a spare core keeps the pool, which overlaps the copy with its next group
   *  (log-append, fsync interval 1 ms: 0.87 of the raw ceiling through the pool, 0.68 inline). */
  private async writeRun(seg: Segment, iov: Uint8Array[], bytes: number): Promise<void> {
    const n = this.o.inlineWrites && this.o.fsync !== 'always' ? writevAtSync(seg.fd, iov, seg.size) : await writevAt(seg.fd, iov, seg.size);
    if (n !== bytes) throw new Error(`short write: ${n} of ${bytes} bytes`);
    seg.size += bytes;
    this.unsyncedBytes += bytes;
  }

  /** Seals the active segment (fsync, durable index) and starts a new one at nextOffset. */
  private async roll(): Promise<Segment> {
    const old = this.active;
    await this.syncInFlight;
    await fdatasync(old.fd);
    this.unsyncedBytes = 0;
    old.readable = old.size;
    await writeIndexFile(old);
    const seg = new Segment(this.dir, this.nextOffset, 0);
    seg.fd = await openFd(seg.logPath, 'wx+');
    seg.index = new SparseIndex();
    await fsyncDir(this.dir); // the new file's entry must be durable before data in it is acked
    this.segments.push(seg);
    this.cacheReadFd(old);
    void this.enforceRetention();
    return seg;
  }

  private scheduleSync(): void {
    if (this.syncTimer || this.closed) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      void this.syncActive().catch(() => {}); // failure is recorded by syncActive
    }, this.o.fsyncIntervalMs);
    this.syncTimer.unref();
  }

  /** fdatasync of the active segment if anything was written since the last one. Runs beside the
   *  writer (interval policy, and never every WRITEBACK_BYTES): appends do not wait for it. */
  private async syncActive(): Promise<void> {
    while (this.syncInFlight) await this.syncInFlight;
    if (this.unsyncedBytes === 0) return;
    this.unsyncedBytes = 0;
    const seg = this.active;
    seg.refs++;
    this.syncInFlight = fdatasync(seg.fd).catch((err) => { throw this.fail(err); }).finally(() => {
      this.syncInFlight = undefined;
      this.release(seg);
    });
    await this.syncInFlight;
  }

  /** Makes everything appended so far durable. */
  async flush(): Promise<void> {
    await this.appends.idle();
    await this.syncActive();
    if (this.failure) throw this.failure;
  }

  // --- reads ---------------------------------------------------------------------------------

  async read(offset: number, maxRecords: number, maxBytes: number): Promise<StoredRecord[]> {
    this.checkUsable();
    if (offset < this.start) {
      throw new EvmeshError('EVM_BAD_OFFSET', `offset ${offset} is below the first retained offset ${this.start} of ${this.label}`);
    }
    const end = this.ackedEnd;
    if (offset >= end) return [];
    const seg = this.segmentFor(offset);
    seg.refs++;
    try {
      const fd = await this.segmentFd(seg);
      const index = await this.segmentIndex(seg);
      let pos = index.positionForOffset(offset - seg.baseOffset);
      const limit = seg.readable;
      const want = this.o.indexIntervalBytes + Math.min(Number.isFinite(maxBytes) ? maxBytes : DEFAULT_READ_BYTES, MAX_READ_BYTES) +
        Math.min(maxRecords, 1 << 16) * RECORD_HEADER_SIZE + BATCH_HEADER_SIZE;
      // A consumer held back by credit asks for a few records at a time; without this every such
      // read fetched ~1 MiB and CRC-checked the whole (often 250-record) batch again (grpc bench,
      // both streams on one shard: log reads + CRC + GC ~half the shard's time). Bytes below the
      // readable end never change (appends only write past it; retention drops whole segments),
      // so the last read's bytes serve the next read when they reach as far as a fresh read
      // would: the result is the same, and each batch is CRC-checked once per fetch.
      // The bytes are held weakly: records handed out keep them alive anyway, and an idle
      // partition's last fetch is left to the GC (no MiB per partition ever read).
      let last = this.lastRead;
      const kept = last !== undefined && last.seg === seg && last.pos === pos && last.pos + last.n >= Math.min(pos + want, limit)
        ? last.bytes.deref() : undefined;
      let buf: Buffer, n: number;
      if (kept !== undefined) {
        n = last!.n;
        buf = Buffer.from(kept, last!.byteOffset, n);
      } else {
        buf = Buffer.allocUnsafe(Math.min(want, limit - pos));
        n = await preadFull(fd, buf, 0, buf.length, pos);
        this.lastRead = last = fetched(seg, pos, buf, n);
      }
      const out: StoredRecord[] = [];
      let bytes = 0;
      let p = 0;
      let expected = -1;
      while (pos + p < limit) {
        const h = peekBatch(buf, p, n);
        if (h !== undefined) {
          if (h.size < BATCH_HEADER_SIZE || pos + p + h.size > limit) throw this.corrupt(seg, pos + p, 'batch overruns the segment');
          if (expected >= 0 ? h.baseOffset !== expected : h.baseOffset > offset) {
            throw this.corrupt(seg, pos + p, `batch baseOffset ${h.baseOffset} out of sequence`);
          }
          if (h.baseOffset + h.count <= offset) { // before the wanted offset: skip without reading it
            expected = h.baseOffset + h.count;
            p += h.size;
            continue;
          }
        }
        if (h === undefined || p + h.size > n) {
          if (limit - (pos + p) < BATCH_HEADER_SIZE) throw this.corrupt(seg, pos + p, 'truncated batch header');
          if (out.length > 0) break;
          // Nothing returned yet: read again from this batch (all values share one buffer).
          pos += p;
          p = 0;
          buf = Buffer.allocUnsafe(Math.min(limit - pos, Math.max(want, h?.size ?? 0)));
          n = await preadFull(fd, buf, 0, buf.length, pos);
          this.lastRead = last = fetched(seg, pos, buf, n);
          continue;
        }
        expected = h.baseOffset + h.count;
        if (p < last!.checkedFrom || p + h.size > last!.checkedTo) {
          const bad = checkBatch(buf, p, h);
          if (bad !== undefined) throw this.corrupt(seg, pos + p, bad);
          // One contiguous checked range per fetch: reads walk batches forward.
          if (p === last!.checkedTo) last!.checkedTo = p + h.size;
          else { last!.checkedFrom = p; last!.checkedTo = p + h.size; }
        }
        let rp = p + BATCH_HEADER_SIZE;
        for (let i = 0; i < h.count; i++) {
          const len = buf.readUInt32BE(rp);
          const o = h.baseOffset + i;
          if (o >= offset) {
            if (o >= end || out.length >= maxRecords || (out.length > 0 && bytes + len > maxBytes)) return out;
            out.push({ offset: o, timestamp: readU64(buf, rp + 4), value: buf.subarray(rp + RECORD_HEADER_SIZE, rp + RECORD_HEADER_SIZE + len) });
            bytes += len;
          }
          rp += RECORD_HEADER_SIZE + len;
        }
        p += h.size;
      }
      return out;
    } finally {
      this.release(seg);
    }
  }

  async offsetForTimestamp(ts: number): Promise<number> {
    this.checkUsable();
    const end = this.ackedEnd;
    // The last segment whose first record is older than ts holds the answer, or the answer is the
    // next segment's first offset (timestamps are non-decreasing append times).
    let k = -1;
    for (let lo = 0, hi = this.segments.length; lo < hi;) {
      const mid = (lo + hi) >>> 1;
      const first = await this.firstTimestampOf(this.segments[mid]!);
      if (first !== undefined && first < ts) { k = mid; lo = mid + 1; } else hi = mid;
    }
    if (k < 0) return this.start;
    const seg = this.segments[k]!;
    seg.refs++;
    try {
      const fd = await this.segmentFd(seg);
      const index = await this.segmentIndex(seg);
      let found = -1;
      const from = index.positionBeforeTimestamp(ts);
      const r = await scanBatches(fd, from, seg.readable, undefined, (buf, p, h) => {
        let rp = p + BATCH_HEADER_SIZE;
        for (let i = 0; i < h.count; i++) {
          if (readU64(buf, rp + 4) >= ts) { found = h.baseOffset + i; return true; }
          rp += RECORD_HEADER_SIZE + buf.readUInt32BE(rp);
        }
        return false;
      });
      if (found >= 0) return Math.min(found, end);
      if (r.invalid !== undefined) throw this.corrupt(seg, r.end, r.invalid);
      const next = this.segments[k + 1];
      return next ? Math.min(next.baseOffset, end) : end;
    } finally {
      this.release(seg);
    }
  }

  private segmentFor(offset: number): Segment {
    const segs = this.segments;
    let lo = 0, hi = segs.length - 1; // last segment with baseOffset <= offset
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segs[mid]!.baseOffset <= offset) lo = mid; else hi = mid - 1;
    }
    return segs[lo]!;
  }

  private async firstTimestampOf(seg: Segment): Promise<number | undefined> {
    if (seg.firstTimestamp !== undefined || seg.readable < BATCH_HEADER_SIZE + RECORD_HEADER_SIZE) return seg.firstTimestamp;
    seg.refs++;
    try {
      const fd = await this.segmentFd(seg);
      const buf = Buffer.allocUnsafe(BATCH_HEADER_SIZE + RECORD_HEADER_SIZE);
      await preadFull(fd, buf, 0, buf.length, 0);
      const ts = readU64(buf, BATCH_HEADER_SIZE + 4);
      if (ts < 0) throw this.corrupt(seg, 0, 'bad first timestamp');
      seg.firstTimestamp = ts;
      return ts;
    } finally {
      this.release(seg);
    }
  }

  /** The fd of a segment the caller holds a ref on; old segments' fds are opened on demand and
   *  at most READ_FDS of them stay open per partition. */
  private async segmentFd(seg: Segment): Promise<number> {
    if (seg.fd >= 0) {
      if (seg !== this.active) this.cacheReadFd(seg);
      return seg.fd;
    }
    seg.fdOpening ??= openFd(seg.logPath, 'r').then((fd) => {
      seg.fd = fd;
      seg.fdOpening = undefined;
      return fd;
    }, (err) => {
      seg.fdOpening = undefined;
      throw err;
    });
    const fd = await seg.fdOpening;
    this.cacheReadFd(seg);
    return fd;
  }

  private cacheReadFd(seg: Segment): void {
    seg.closeWhenIdle = false;
    const i = this.readCache.indexOf(seg);
    if (i !== 0) {
      if (i > 0) this.readCache.splice(i, 1);
      this.readCache.unshift(seg);
    }
    while (this.readCache.length > READ_FDS) {
      const evicted = this.readCache.pop()!;
      evicted.closeWhenIdle = true;
      evicted.index = undefined;
      if (evicted.refs === 0) this.closeSegmentFd(evicted);
    }
  }

  private release(seg: Segment): void {
    seg.refs--;
    if (seg.refs === 0 && seg.closeWhenIdle) this.closeSegmentFd(seg);
  }

  private closeSegmentFd(seg: Segment): void {
    if (seg.fd < 0) return;
    const fd = seg.fd;
    seg.fd = -1;
    seg.closeWhenIdle = false;
    void closeFd(fd).catch(() => {});
  }

  private async segmentIndex(seg: Segment): Promise<SparseIndex> {
    if (seg.index) return seg.index;
    seg.indexLoading ??= this.loadIndex(seg).finally(() => { seg.indexLoading = undefined; });
    return seg.indexLoading;
  }

  /** Loads an old segment's index file, rebuilding (and rewriting) it when missing or stale. */
  private async loadIndex(seg: Segment): Promise<SparseIndex> {
    let index: SparseIndex | undefined;
    try {
      index = SparseIndex.decode(await readFile(seg.indexPath), seg.size);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    if (!index) {
      const scan = await scanSegment(await this.segmentFd(seg), seg.size, seg.baseOffset, this.o.indexIntervalBytes);
      index = scan.index; // a corrupt batch stops the index early; reads past it report EVM_CORRUPT
      if (scan.invalid === undefined) await writeIndexFile(seg, index);
    }
    if (!seg.closeWhenIdle || seg === this.active) seg.index = index;
    return index;
  }

  // --- retention -----------------------------------------------------------------------------

  /** Deletes whole old segments beyond retentionBytes / retentionMs; never the active one.
   *  Runs are serialized; the promise settles when this run is done. */
  enforceRetention(): Promise<void> {
    const run = this.retention.then(() => this.runRetention());
    this.retention = run;
    return run;
  }

  private async runRetention(): Promise<void> {
    if (this.closed) return;
    try {
      const { retentionBytes, retentionMs } = this.o;
      if (retentionBytes >= 0) {
        let total = 0;
        for (const s of this.segments) total += s.size;
        while (this.segments.length > 1 && total > retentionBytes) {
          total -= this.segments[0]!.size;
          await this.deleteOldest();
        }
      }
      if (retentionMs >= 0) {
        const cutoff = this.o.now() - retentionMs;
        while (this.segments.length > 1) {
          const [oldest, next] = this.segments as [Segment, Segment];
          // Newest record of a sealed segment: known if it was active in this process, else
          // bounded by the next segment's first timestamp (timestamps are non-decreasing).
          const newest = oldest.maxTimestamp >= 0 ? oldest.maxTimestamp : await this.firstTimestampOf(next);
          if (newest === undefined || newest >= cutoff) break;
          await this.deleteOldest();
        }
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async deleteOldest(): Promise<void> {
    const seg = this.segments.shift()!;
    const i = this.readCache.indexOf(seg);
    if (i >= 0) this.readCache.splice(i, 1);
    seg.closeWhenIdle = true;
    if (seg.refs === 0) this.closeSegmentFd(seg);
    await unlink(seg.indexPath).catch((err) => { if (!isErrno(err, 'ENOENT')) throw err; });
    await unlink(seg.logPath);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /** Flushes (fsync + index of the active segment) and closes every file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.appends.idle();
    this.closed = true;
    await this.retention;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    let err: unknown;
    try {
      await this.syncActive();
    } catch (e) {
      err = e;
    }
    for (const seg of this.segments) {
      seg.closeWhenIdle = true;
      if (seg.refs === 0) this.closeSegmentFd(seg);
    }
    if (err) throw this.fail(err);
  }

  private checkUsable(): void {
    if (this.closed) throw new EvmeshError('EVM_UNAVAILABLE', `partition ${this.label} is closed`);
    if (this.failure) throw this.failure;
  }

  /** After a write or fsync error the file state is unknown: the partition refuses further work
   *  until it is reopened (which recovers it from disk). */
  private fail(err: unknown): EvmeshError {
    if (!this.failure) {
      this.failure = err instanceof EvmeshError ? err
        : new EvmeshError('EVM_STORAGE', `partition ${this.label}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return this.failure;
  }

  private corrupt(seg: Segment, position: number, why: string): EvmeshError {
    return new EvmeshError('EVM_CORRUPT', `${seg.logPath} at byte ${position}: ${why}`, { path: seg.logPath, position });
  }
}

/** Writes a segment's index next to it atomically (temp file + fsync + rename). */
async function writeIndexFile(seg: Segment, index = seg.index): Promise<void> {
  if (!index) return;
  const tmp = `${seg.indexPath}.${process.pid}.tmp`;
  await unlink(tmp).catch(() => {});
  await writeFileDurably(tmp, index.encode());
  await rename(tmp, seg.indexPath);
}

/** fdatasync, timed into evmesh_storage_fsync_duration_seconds. */
async function fdatasync(fd: number): Promise<void> {
  const t0 = performance.now();
  await rawFdatasync(fd);
  threadMetrics.storage.fsyncSeconds.observe((performance.now() - t0) / 1000);
}

/** A read's fetched bytes: `n` bytes of `seg` from file position `pos`, held weakly; batches
 *  within [checkedFrom, checkedTo) of them passed their CRC check. */
interface LastRead {
  readonly seg: Segment;
  readonly pos: number;
  readonly bytes: WeakRef<ArrayBuffer>;
  readonly byteOffset: number;
  readonly n: number;
  checkedFrom: number;
  checkedTo: number;
}

function fetched(seg: Segment, pos: number, buf: Buffer, n: number): LastRead {
  return { seg, pos, bytes: new WeakRef(buf.buffer as ArrayBuffer), byteOffset: buf.byteOffset, n, checkedFrom: 0, checkedTo: 0 };
}
