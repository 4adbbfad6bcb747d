import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { LogStorage } from '../../src/storage/log/log-storage.js';
import type { LogStorageOptions } from '../../src/storage/log/options.js';
import type { FsyncPolicy } from '../../src/storage/types.js';
import { runStorageConformance } from './conformance.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

// inlineWrites (the broker's setting when shards take every core) only changes where the
// page-cache write runs under interval/never; the contract must not change.
const variants: [FsyncPolicy, boolean][] = [['always', false], ['interval', false], ['never', false], ['interval', true], ['never', true]];
for (const [fsync, inlineWrites] of variants) {
  const options = (dataDir: string): LogStorageOptions => ({ dataDir, fsync, fsyncIntervalMs: 1, inlineWrites });
  runStorageConformance(`log (fsync ${fsync}${inlineWrites ? ', inline writes' : ''})`, async () => {
    const dir = await mkdtemp(join(tmpdir(), `evmesh-log-${fsync}-`));
    dirs.push(dir);
    return new LogStorage(options(dir));
  }, {
    reopen: async (old) => new LogStorage(options((old as LogStorage).options.dataDir)),
    peer: async (s) => new LogStorage(options((s as LogStorage).options.dataDir)),
  });
}
