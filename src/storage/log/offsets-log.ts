// Committed consumer offsets of one partition: `<partition dir>/offsets.log`, an append-only
// file of CRC'd records (last record of a group wins), compacted on open and when it grows to
// several times its live size. Record grammar, big-endian (docs/storage.md):
//
//   commit = len:u32 crc:u32 offset:u64 groupLen:u16 group:utf8{groupLen}
//
// len counts the bytes after the len field; crc is CRC-32C of the bytes after the crc field.
// Commits in one tick share one write and (fsync 'always') one fdatasync.
import { readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EvmeshError } from '../../errors.js';
import { crc32c } from '../../native.js';
import type { FsyncPolicy } from '../types.js';
import { closeFd, fdatasync, fsyncDir, isErrno, openFd, writeFileDurably, writevAt } from './io.js';
import { readU64, writeU64 } from './record-batch.js';
import { GroupCommit } from './group-commit.js';

const HEADER = 18; // len + crc + offset + groupLen
const COMPACT_MIN_BYTES = 64 * 1024;

export function encodeCommit(group: string, offset: number): Buffer {
  const g = Buffer.from(group, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER + g.length);
  buf.writeUInt32BE(buf.length - 4, 0);
  writeU64(buf, 8, offset);
  buf.writeUInt16BE(g.length, 16);
  g.copy(buf, HEADER);
  buf.writeUInt32BE(crc32c(buf.subarray(8)), 4);
  return buf;
}

/** Parses commits until the first invalid one; returns the live map and the valid length. */
export function decodeCommits(buf: Buffer): { offsets: Map<string, number>; validBytes: number } {
  const offsets = new Map<string, number>();
  let p = 0;
  while (buf.length - p >= HEADER) {
    const size = buf.readUInt32BE(p) + 4;
    if (size < HEADER || p + size > buf.length || size !== HEADER + buf.readUInt16BE(p + 16)) break;
    if (crc32c(buf.subarray(p + 8, p + size)) !== buf.readUInt32BE(p + 4)) break;
    const offset = readU64(buf, p + 8);
    if (offset < 0) break;
    offsets.set(buf.toString('utf8', p + HEADER, p + size), offset);
    p += size;
  }
  return { offsets, validBytes: p };
}

interface PendingCommit {
  readonly group: string;
  readonly offset: number;
  readonly record: Buffer;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class OffsetsLog {
  private readonly commits = new GroupCommit<PendingCommit>((group) => this.writeGroup(group));
  private dirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private failure: EvmeshError | undefined;
  private syncing: Promise<void> | undefined;

  private constructor(private readonly path: string, private fd: number, private size: number,
    private readonly offsets: Map<string, number>, private readonly fsync: FsyncPolicy, private readonly intervalMs: number) {}

  static async open(path: string, fsync: FsyncPolicy, intervalMs: number): Promise<OffsetsLog> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      buf = Buffer.alloc(0);
    }
    const { offsets, validBytes } = decodeCommits(buf);
    const log = new OffsetsLog(path, -1, 0, offsets, fsync, intervalMs);
    if (buf.length === 0) {
      // Missing, or empty because a process died right after creating it: (re)create.
      log.fd = await openFd(path, 'w+');
      await fsyncDir(dirname(path));
    } else if (validBytes < buf.length || buf.length > COMPACT_MIN_BYTES) {
      await log.compact(); // drops a torn tail and superseded commits
    } else {
      log.fd = await openFd(path, 'r+');
      log.size = buf.length;
    }
    return log;
  }

  /** An I/O error left the file in an unknown state: close and reopen to recover. */
  get failed(): boolean { return this.failure !== undefined; }

  get(group: string): number | undefined {
    return this.offsets.get(group);
  }

  commit(group: string, offset: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const record = encodeCommit(group, offset);
    return new Promise((resolve, reject) => this.commits.push({ group, offset, record, resolve, reject }));
  }

  private async writeGroup(group: PendingCommit[]): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      const bufs = group.map((c) => c.record);
      const bytes = bufs.reduce((n, b) => n + b.length, 0);
      const n = await writevAt(this.fd, bufs, this.size);
      if (n !== bytes) throw new Error(`short write: ${n} of ${bytes} bytes`);
      this.size += bytes;
      this.dirty = true;
      for (const c of group) this.offsets.set(c.group, c.offset);
      if (this.fsync === 'always') await this.sync();
      else if (this.fsync === 'interval') this.scheduleSync();
      if (this.size > COMPACT_MIN_BYTES && this.size > 4 * this.liveBytes()) await this.compact();
      for (const c of group) c.resolve();
    } catch (err) {
      this.failure ??= new EvmeshError('EVM_STORAGE', `${this.path}: ${err instanceof Error ? err.message : String(err)}`);
      for (const c of group) c.reject(this.failure);
    }
  }

  private liveBytes(): number {
    let n = 0;
    for (const g of this.offsets.keys()) n += HEADER + Buffer.byteLength(g);
    return n;
  }

  private scheduleSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      if (!this.commits.busy) void this.sync().catch(() => {});
      else this.scheduleSync();
    }, this.intervalMs);
    this.syncTimer.unref();
  }

  private async sync(): Promise<void> {
    while (this.syncing) await this.syncing;
    if (!this.dirty) return;
    this.dirty = false;
    this.syncing = fdatasync(this.fd).catch((err) => {
      this.failure ??= new EvmeshError('EVM_STORAGE', `${this.path}: fsync failed: ${err instanceof Error ? err.message : String(err)}`);
      throw this.failure;
    }).finally(() => { this.syncing = undefined; });
    await this.syncing;
  }

  /** Rewrites the file with one commit per group (temp file + fsync + rename + fsync dir). */
  private async compact(): Promise<void> {
    while (this.syncing) await this.syncing.catch(() => {});
    const bufs = [...this.offsets].map(([g, o]) => encodeCommit(g, o));
    const data = Buffer.concat(bufs);
    const tmp = `${this.path}.${process.pid}.tmp`;
    await unlink(tmp).catch(() => {});
    await writeFileDurably(tmp, data);
    await rename(tmp, this.path);
    await fsyncDir(dirname(this.path));
    if (this.fd >= 0) await closeFd(this.fd);
    this.fd = await openFd(this.path, 'r+');
    this.size = data.length;
    this.dirty = false;
  }

  async flush(): Promise<void> {
    await this.commits.idle();
    await this.sync();
  }

  async close(): Promise<void> {
    await this.flush().finally(async () => {
      if (this.syncTimer) clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
      if (this.fd >= 0) await closeFd(this.fd);
      this.fd = -1;
    });
  }
}
