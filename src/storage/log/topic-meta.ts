// `<dataDir>/topics/<topic>/meta.json`: created exactly once, atomically, even when several
// LogStorage instances (shards) on the same dataDir create the same topic at the same time.
import { link, mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EvmeshError } from '../../errors.js';
import type { TopicMeta } from '../types.js';
import { fsyncDir, isErrno, writeFileDurably } from './io.js';

export const META_FILE = 'meta.json';

/** The topic's meta, or undefined if it does not exist (or is still being created). */
export async function readTopicMeta(topicDir: string): Promise<TopicMeta | undefined> {
  let text: string;
  try {
    text = await readFile(join(topicDir, META_FILE), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
  try {
    const m = JSON.parse(text) as TopicMeta;
    if (typeof m.name === 'string' && Number.isInteger(m.partitions) && m.partitions >= 1 && typeof m.createdAt === 'number') {
      return { name: m.name, partitions: m.partitions, createdAt: m.createdAt };
    }
  } catch { /* reported below */ }
  throw new EvmeshError('EVM_CORRUPT', `${join(topicDir, META_FILE)} is not a valid topic meta file`);
}

/**
 * Creates the topic's directories and meta file, or returns the meta that is already there (the
 * caller compares partition counts). The meta is written to a unique temp file, fsynced, then
 * hard-linked to meta.json: unlike rename, link() fails with EEXIST instead of replacing, so when
 * two instances race exactly one meta wins and both return it. Then the directory is fsynced.
 */
export async function createTopicMeta(topicsDir: string, name: string, partitions: number): Promise<TopicMeta> {
  const dir = join(topicsDir, name);
  await mkdir(dir, { recursive: true });
  for (let p = 0; p < partitions; p++) await mkdir(join(dir, String(p)), { recursive: true });
  const meta: TopicMeta = { name, partitions, createdAt: Date.now() };
  const tmp = join(dir, `${META_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFileDurably(tmp, Buffer.from(JSON.stringify(meta) + '\n'));
  try {
    await link(tmp, join(dir, META_FILE));
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    const existing = await readTopicMeta(dir);
    if (!existing) throw err;
    return existing;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await fsyncDir(dir);
  await fsyncDir(topicsDir);
  return meta;
}
