// The embedded log Storage (DESIGN §3, docs/storage.md): topics are directories, partitions are
// opened lazily on first use (a shard opens only what it owns), each partition has its own
// segmented log and its own offsets log.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EvmeshError } from '../../errors.js';
import type { AppendResult, PartitionBounds, ReadOptions, Storage, StoredRecord, TopicMeta } from '../types.js';
import { TOPIC_NAME } from '../types.js';
import { fsyncDir } from './io.js';
import { OffsetsLog } from './offsets-log.js';
import { type LogStorageOptions, type ResolvedLogOptions, resolveLogOptions } from './options.js';
import { Partition } from './partition.js';
import { createTopicMeta, readTopicMeta } from './topic-meta.js';

const MAX_GROUP_BYTES = 0xffff;

export class LogStorage implements Storage {
  readonly kind = 'log';
  readonly options: ResolvedLogOptions;
  private readonly topicsDir: string;
  private readonly trashDir: string;
  private readonly metas = new Map<string, TopicMeta>();
  private readonly partitions = new Map<string, Promise<Partition>>();
  private readonly offsetLogs = new Map<string, Promise<OffsetsLog>>();
  private state: 'new' | 'open' | 'closed' = 'new';
  private retentionTimer: NodeJS.Timeout | undefined;

  constructor(options: LogStorageOptions) {
    this.options = resolveLogOptions(options);
    this.topicsDir = join(this.options.dataDir, 'topics');
    this.trashDir = join(this.options.dataDir, 'trash');
  }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new EvmeshError('EVM_UNAVAILABLE', `log storage is ${this.state === 'open' ? 'already open' : 'closed'}`);
    await mkdir(this.topicsDir, { recursive: true });
    await mkdir(this.trashDir, { recursive: true });
    // A crash between deleteTopic's rename and its rm leaves the topic here, already invisible.
    // Best effort: another instance's deleteTopic may be removing the same entry right now.
    for (const left of await readdir(this.trashDir)) await rm(join(this.trashDir, left), { recursive: true, force: true }).catch(() => {});
    this.state = 'open';
    this.retentionTimer = setInterval(() => void this.enforceRetention(), this.options.retentionCheckMs);
    this.retentionTimer.unref();
  }

  // --- topics --------------------------------------------------------------------------------

  async createTopic(name: string, partitions: number): Promise<TopicMeta> {
    this.check();
    checkTopicName(name);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 65535) {
      throw new EvmeshError('EVM_BAD_REQUEST', `partitions must be an integer in [1, 65535], got ${partitions}`);
    }
    const meta = (await this.meta(name)) ?? (await createTopicMeta(this.topicsDir, name, partitions));
    if (meta.partitions !== partitions) {
      throw new EvmeshError('EVM_TOPIC_EXISTS', `topic ${name} exists with ${meta.partitions} partitions, not ${partitions}`);
    }
    this.metas.set(name, meta);
    return meta;
  }

  async listTopics(): Promise<TopicMeta[]> {
    this.check();
    const out: TopicMeta[] = [];
    for (const name of (await readdir(this.topicsDir)).sort()) {
      const meta = await readTopicMeta(join(this.topicsDir, name));
      if (meta) out.push(meta);
    }
    return out;
  }

  async deleteTopic(name: string): Promise<boolean> {
    this.check();
    if (!TOPIC_NAME.test(name)) return false;
    const meta = await this.meta(name);
    if (!meta) return false;
    await this.releaseTopic(name);
    // Rename out of topics/ first so a half-deleted topic is never visible, then remove.
    const trash = join(this.trashDir, `${name}.${process.pid}.${randomBytes(6).toString('hex')}`);
    try {
      await rename(join(this.topicsDir, name), trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // deleted concurrently
      throw err;
    }
    await fsyncDir(this.topicsDir);
    await rm(trash, { recursive: true, force: true });
    return true;
  }

  /** Closes the topic's open partitions and offsets logs and forgets its cached meta; the
   *  files stay (the controller's instance deletes them, docs/admin.md). */
  async releaseTopic(name: string): Promise<void> {
    this.check();
    this.metas.delete(name);
    const prefix = `${name}\0`;
    const closing: Promise<unknown>[] = [];
    for (const map of [this.partitions, this.offsetLogs] as Map<string, Promise<Partition | OffsetsLog>>[]) {
      for (const [key, opening] of map) {
        if (!key.startsWith(prefix)) continue;
        map.delete(key);
        closing.push(opening.then((x) => x.close()).catch(() => {}));
      }
    }
    await Promise.all(closing);
  }

  // --- records -------------------------------------------------------------------------------

  async append(topic: string, partition: number, values: readonly Uint8Array[], timestamp = Date.now()): Promise<AppendResult> {
    if (!Array.isArray(values) || !values.every((v) => v instanceof Uint8Array)) {
      throw new EvmeshError('EVM_BAD_REQUEST', 'values must be an array of Uint8Array');
    }
    checkTimestamp(timestamp);
    return (await this.partition(topic, partition)).append(values, timestamp);
  }

  async read(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<StoredRecord[]> {
    const { maxRecords = 1000, maxBytes = Infinity } = options;
    if (!Number.isSafeInteger(offset)) throw new EvmeshError('EVM_BAD_OFFSET', `offset must be an integer, got ${offset}`);
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw new EvmeshError('EVM_BAD_REQUEST', `maxRecords must be an integer >= 1, got ${maxRecords}`);
    if (!(maxBytes > 0)) throw new EvmeshError('EVM_BAD_REQUEST', `maxBytes must be > 0, got ${maxBytes}`);
    return (await this.partition(topic, partition)).read(offset, maxRecords, maxBytes);
  }

  async bounds(topic: string, partition: number): Promise<PartitionBounds> {
    const p = await this.partition(topic, partition);
    return { start: p.start, end: p.end };
  }

  async offsetForTimestamp(topic: string, partition: number, ts: number): Promise<number> {
    if (typeof ts !== 'number' || Number.isNaN(ts)) throw new EvmeshError('EVM_BAD_REQUEST', `timestamp must be a number, got ${ts}`);
    return (await this.partition(topic, partition)).offsetForTimestamp(ts);
  }

  // --- consumer offsets ----------------------------------------------------------------------

  async commitOffset(group: string, topic: string, partition: number, offset: number): Promise<void> {
    checkGroup(group);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new EvmeshError('EVM_BAD_REQUEST', `offset must be an integer >= 0, got ${offset}`);
    await (await this.offsetsLog(topic, partition)).commit(group, offset);
  }

  async fetchOffset(group: string, topic: string, partition: number): Promise<number | undefined> {
    checkGroup(group);
    return (await this.offsetsLog(topic, partition)).get(group);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  async flush(): Promise<void> {
    this.check();
    await Promise.all([...this.partitions.values(), ...this.offsetLogs.values()].map(async (opening) => (await opening).flush()));
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    const all = [...this.partitions.values(), ...this.offsetLogs.values()];
    this.partitions.clear();
    this.offsetLogs.clear();
    const results = await Promise.allSettled(all.map(async (opening) => (await opening).close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Runs retention on every open partition now (it also runs on a timer and on segment roll). */
  async enforceRetention(): Promise<void> {
    await Promise.all([...this.partitions.values()].map(async (opening) => (await opening.catch(() => undefined))?.enforceRetention()));
  }

  // --- helpers -------------------------------------------------------------------------------

  private check(): void {
    if (this.state !== 'open') throw new EvmeshError('EVM_UNAVAILABLE', `log storage is ${this.state === 'new' ? 'not open' : 'closed'}`);
  }

  /** The topic's meta: cached, or read from disk (another instance may have created it). */
  private async meta(name: string): Promise<TopicMeta | undefined> {
    const cached = this.metas.get(name);
    if (cached) return cached;
    const meta = await readTopicMeta(join(this.topicsDir, name));
    if (meta) this.metas.set(name, meta);
    return meta;
  }

  private async partitionDir(topic: string, partition: number): Promise<string> {
    this.check();
    if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) throw new EvmeshError('EVM_UNKNOWN_TOPIC', `unknown topic ${JSON.stringify(topic)}`);
    const meta = await this.meta(topic);
    if (!meta) throw new EvmeshError('EVM_UNKNOWN_TOPIC', `unknown topic ${topic}`);
    if (!Number.isInteger(partition) || partition < 0 || partition >= meta.partitions) {
      throw new EvmeshError('EVM_BAD_REQUEST', `topic ${topic} has no partition ${partition}`);
    }
    return join(this.topicsDir, topic, String(partition));
  }

  private partition(topic: string, partition: number): Promise<Partition> {
    return this.lazily(this.partitions, topic, partition, (dir) => Partition.open(dir, `${topic}/${partition}`, this.options),
      (p) => p.failed);
  }

  private offsetsLog(topic: string, partition: number): Promise<OffsetsLog> {
    return this.lazily(this.offsetLogs, topic, partition,
      (dir) => OffsetsLog.open(join(dir, 'offsets.log'), this.options.fsync, this.options.fsyncIntervalMs), (l) => l.failed);
  }

  /** Opens a partition's object once (concurrent callers share the opening); one that failed
   *  (I/O error) is closed and reopened, which recovers it from disk. */
  private async lazily<T extends { close(): Promise<void> }>(map: Map<string, Promise<T>>, topic: string, partition: number,
    open: (dir: string) => Promise<T>, failed: (x: T) => boolean): Promise<T> {
    const key = `${topic}\0${partition}`;
    let opening = map.get(key);
    if (opening) {
      this.check();
      const x = await opening;
      if (!failed(x)) return x;
      if (map.get(key) === opening) map.delete(key);
      await x.close().catch(() => {});
      return this.lazily(map, topic, partition, open, failed);
    }
    const dir = await this.partitionDir(topic, partition);
    opening = map.get(key); // opened while we awaited the meta
    if (opening) return opening;
    opening = open(dir);
    map.set(key, opening);
    opening.catch(() => { if (map.get(key) === opening) map.delete(key); });
    return opening;
  }
}

function checkTopicName(name: string): void {
  if (typeof name !== 'string' || !TOPIC_NAME.test(name)) throw new EvmeshError('EVM_BAD_TOPIC', `invalid topic name ${JSON.stringify(name)}`);
}

function checkTimestamp(ts: number): void {
  if (!Number.isSafeInteger(ts) || ts < 0) throw new EvmeshError('EVM_BAD_REQUEST', `timestamp must be an integer >= 0 (ms since epoch), got ${ts}`);
}

function checkGroup(group: string): void {
  if (typeof group !== 'string' || group === '' || Buffer.byteLength(group) > MAX_GROUP_BYTES) {
    throw new EvmeshError('EVM_BAD_REQUEST', `consumer group must be a non-empty string of at most ${MAX_GROUP_BYTES} bytes`);
  }
}
