// The real Kafka broker of the test suite: `scripts/services.sh up kafka` (idempotent; npm test
// already brought it up, so this only returns its address) and cleanup of a test's topics.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import rdkafka from 'node-rdkafka';

const ROOT = new URL('../../', import.meta.url);

/** Starts (if needed) the broker on `port` (default 19092) and returns its bootstrap address. */
export function kafkaUp(port?: number): string {
  const env = port === undefined ? process.env : { ...process.env, EVMESH_KAFKA_PORT: String(port) };
  const out = execFileSync('bash', ['scripts/services.sh', 'up', 'kafka'], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').at(-1)!;
}

export function kafkaDown(port: number): void {
  execFileSync('bash', ['scripts/services.sh', 'down', 'kafka'], { cwd: ROOT, env: { ...process.env, EVMESH_KAFKA_PORT: String(port) }, stdio: 'inherit' });
}

/** A topic/group prefix no other test uses. */
export const uniquePrefix = (what: string): string => `t-${what}-${randomUUID().slice(0, 8)}-`;

/** Deletes every Kafka topic whose name starts with one of `prefixes` (tests leave none behind). */
export async function deleteKafkaTopics(brokers: string, prefixes: readonly string[]): Promise<void> {
  const producer = new rdkafka.Producer({ 'bootstrap.servers': brokers });
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  const md = await new Promise<rdkafka.Metadata>((resolve, reject) => producer.getMetadata({ timeout: 10_000 }, (err, m) => (err ? reject(err) : resolve(m))));
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  const names = md.topics.map((t) => t.name).filter((n) => prefixes.some((p) => n.startsWith(p)));
  const admin = rdkafka.AdminClient.create({ 'bootstrap.servers': brokers });
  await Promise.all(names.map((n) => new Promise<void>((resolve) => admin.deleteTopic(n, 10_000, () => resolve()))));
  admin.disconnect();
}

/** The offsets Kafka's group coordinator holds for `group` on `topic`'s partitions, asked by a
 *  plain librdkafka consumer of that group. */
export async function committedOffsets(brokers: string, group: string, topic: string, partitions: number): Promise<number[]> {
  const c = new rdkafka.KafkaConsumer({ 'bootstrap.servers': brokers, 'group.id': group, 'enable.auto.commit': false }, {});
  await new Promise<void>((resolve, reject) => c.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    const tps = await new Promise<rdkafka.TopicPartitionOffset[]>((resolve, reject) =>
      c.committed(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })), 10_000, (err, r) => (err ? reject(err) : resolve(r))));
    return tps.sort((a, b) => a.partition - b.partition).map((t) => t.offset ?? -1);
  } finally {
    await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }
}
