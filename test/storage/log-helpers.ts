// Shared helpers of the log-specific tests: temp data dirs and file inspection.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { LogStorage } from '../../src/storage/log/log-storage.js';
import type { LogStorageOptions } from '../../src/storage/log/options.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

export async function tempDir(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `evmesh-${tag}-`));
  dirs.push(dir);
  return dir;
}

export async function openLog(options: LogStorageOptions): Promise<LogStorage> {
  const s = new LogStorage(options);
  await s.open();
  return s;
}

export function partitionDir(dataDir: string, topic: string, partition: number): string {
  return join(dataDir, 'topics', topic, String(partition));
}

/** Segment base offsets present in a partition directory, ascending. */
export async function segmentBases(dir: string): Promise<number[]> {
  return (await readdir(dir)).filter((n) => /^\d{20}\.log$/.test(n)).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
}

export function segmentPath(dir: string, base: number, ext: '.log' | '.index'): string {
  return join(dir, String(base).padStart(20, '0') + ext);
}

export const text = (s: string): Uint8Array => Buffer.from(s);
export const str = (v: Uint8Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString();
