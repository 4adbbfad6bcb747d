// LogStorage options and their defaults (docs/storage.md "Options"; the broker fills them from
// the log.* config keys, whose defaults match these).
import { EvmeshError } from '../../errors.js';
import type { FsyncPolicy } from '../types.js';

export interface LogStorageOptions {
  /** Root directory; topics live in `<dataDir>/topics/<topic>/`. Required. */
  readonly dataDir: string;
  /** When appends are fsynced (docs/storage.md "Durability"). Default 'interval'. */
  readonly fsync?: FsyncPolicy;
  /** fsync 'interval': longest time between an acknowledged append and its fsync. Default 5 ms. */
  readonly fsyncIntervalMs?: number;
  /** A segment file rolls when the next batch would take it past this size. Default 128 MiB. */
  readonly segmentBytes?: number;
  /** Bytes of batches between two sparse index entries. Default 4096. */
  readonly indexIntervalBytes?: number;
  /** Per partition: oldest segments are deleted while the partition is larger. -1 = unlimited (default). */
  readonly retentionBytes?: number;
  /** Segments whose newest record is older than this are deleted. -1 = unlimited. Default 7 days. */
  readonly retentionMs?: number;
  /** Largest batch (one append, encoded) accepted; larger appends fail with EVM_TOO_LARGE. Default 64 MiB. */
  readonly maxBatchBytes?: number;
  /** How often retention runs on open partitions (it also runs on every segment roll). Default 60 s. */
  readonly retentionCheckMs?: number;
  /** fsync 'interval'/'never': make each group's page-cache write synchronously on the appending
   *  thread instead of on libuv's thread pool (docs/storage.md "I/O path"). Pays when the
   *  appending threads already keep every core busy; the broker sets it when its shards are at
   *  least as many as the cores. Default false. */
  readonly inlineWrites?: boolean;
  /** Clock for retention by age (tests inject one). Default Date.now. */
  readonly now?: () => number;
}

export type ResolvedLogOptions = Required<LogStorageOptions>;

const MiB = 1024 * 1024;
export const LOG_DEFAULTS = {
  fsync: 'interval',
  fsyncIntervalMs: 5,
  segmentBytes: 128 * MiB,
  indexIntervalBytes: 4096,
  retentionBytes: -1,
  retentionMs: 7 * 24 * 3_600_000,
  maxBatchBytes: 64 * MiB,
  retentionCheckMs: 60_000,
  inlineWrites: false,
} as const;

/** Largest segment the 32-bit positions of the index can address (a segment may exceed
 *  segmentBytes by at most one batch). */
const MAX_SEGMENT_BYTES = 1024 * MiB;

export function resolveLogOptions(o: LogStorageOptions): ResolvedLogOptions {
  const r: ResolvedLogOptions = {
    dataDir: o.dataDir,
    fsync: o.fsync ?? LOG_DEFAULTS.fsync,
    fsyncIntervalMs: o.fsyncIntervalMs ?? LOG_DEFAULTS.fsyncIntervalMs,
    segmentBytes: o.segmentBytes ?? LOG_DEFAULTS.segmentBytes,
    indexIntervalBytes: o.indexIntervalBytes ?? LOG_DEFAULTS.indexIntervalBytes,
    retentionBytes: o.retentionBytes ?? LOG_DEFAULTS.retentionBytes,
    retentionMs: o.retentionMs ?? LOG_DEFAULTS.retentionMs,
    maxBatchBytes: o.maxBatchBytes ?? LOG_DEFAULTS.maxBatchBytes,
    retentionCheckMs: o.retentionCheckMs ?? LOG_DEFAULTS.retentionCheckMs,
    inlineWrites: o.inlineWrites ?? LOG_DEFAULTS.inlineWrites,
    now: o.now ?? Date.now,
  };
  const bad = (msg: string): never => { throw new EvmeshError('EVM_BAD_CONFIG', `log storage: ${msg}`); };
  if (typeof r.dataDir !== 'string' || r.dataDir === '') bad('dataDir is required');
  if (!['always', 'interval', 'never'].includes(r.fsync)) bad(`fsync must be always, interval or never, got ${String(r.fsync)}`);
  const int = (name: keyof ResolvedLogOptions, min: number, max: number): void => {
    const v = r[name] as number;
    if (!Number.isSafeInteger(v) || v < min || v > max) bad(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  int('fsyncIntervalMs', 1, 3_600_000);
  int('segmentBytes', 1, MAX_SEGMENT_BYTES);
  int('indexIntervalBytes', 1, MAX_SEGMENT_BYTES);
  int('retentionBytes', -1, Number.MAX_SAFE_INTEGER);
  int('retentionMs', -1, Number.MAX_SAFE_INTEGER);
  int('maxBatchBytes', 64, MAX_SEGMENT_BYTES);
  int('retentionCheckMs', 1, 2_147_483_647);
  return r;
}
