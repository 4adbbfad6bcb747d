// evmesh on Kafka end to end (issue 7 items 1, 3, 4): `storage: kafka` with 2 shards against the
// real broker (scripts/kafka/). Every partition lives on the controller (main thread), the
// shards hand it their publishes through the rings; events are Kafka messages in the CloudEvents
// binary binding, which kcat (a Kafka-native tool) reads, and kcat-produced CloudEvents reach
// evmesh subscribers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { startBroker, type RunningBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config/load.js';
import { partitionForKey } from '../../src/core/partitioner.js';
import type { Delivery, MeshEvent } from '../../src/core/types.js';
import { EvmeshClient } from '../../src/sdk/evmesh-client.js';
import { startBrokerProcess } from '../helpers/broker-process.js';
import { httpJson } from '../helpers/http.js';
import { committedOffsets, deleteKafkaTopics, kafkaUp, uniquePrefix } from '../helpers/kafka.js';

const brokers = kafkaUp();

function ev(id: string, extra: Record<string, string | number | boolean> = {}): MeshEvent {
  return { attributes: { specversion: '1.0', id, source: '/kafka-test', type: 'com.example.t', ...extra }, data: Buffer.from(`data ${id}`) };
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** kcat -C: every message of a Kafka topic as one JSON object per line (-J envelope). */
function kcatConsume(topic: string, count: number): { partition: number; offset: number; key: string | null; payload: string | null; headers: string[] }[] {
  const out = execFileSync('kcat', ['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-J', '-q'], { encoding: 'utf8', timeout: 30_000 });
  return out.trim().split('\n').map((l) => JSON.parse(l));
}

describe('broker: storage kafka, 2 shards', () => {
  const prefix = uniquePrefix('broker');
  let broker: RunningBroker;
  let sdk: EvmeshClient;

  before(async () => {
    const config = loadConfig({
      flags: {
        shards: 2, storage: 'kafka', host: '127.0.0.1', 'ports.admin': 0, 'ports.grpc': 0, 'ports.http': 0, 'ports.tcp': 0, 'ports.metrics': 0, 'topics.defaultPartitions': 4,
        'kafka.brokers': brokers, 'kafka.prefix': prefix, 'kafka.lingerMs': 1, 'kafka.refreshMs': 100,
      },
    });
    broker = await startBroker(config, { log: () => {} });
    sdk = await EvmeshClient.connect({ host: '127.0.0.1', port: broker.ports.tcp!, reconnect: false });
  });
  after(async () => {
    await sdk?.close();
    await broker?.stop();
    await deleteKafkaTopics(brokers, [prefix]);
  });

  it('publishes from the shards (binary TCP) and the main thread into every partition; offsets are Kafka offsets', async () => {
    await broker.client().createTopic('orders', 4);
    // One call's unkeyed events share a partition; with storage kafka the shards own none, so
    // successive calls round robin over all of them (docs/core.md "Partitioning").
    const results = [];
    for (let k = 0; k < 4; k++) results.push(...await sdk.publishBatch('orders', Array.from({ length: 10 }, (_, i) => ev(`sdk-${k}.${i}`))));
    results.push(...await broker.client().publishBatch('orders', Array.from({ length: 8 }, (_, i) => ev(`main-${i}`))));
    const perPartition = new Map<number, number[]>();
    for (const r of results) perPartition.set(r.partition, [...(perPartition.get(r.partition) ?? []), r.offset]);
    assert.deepEqual([...perPartition.keys()].sort(), [0, 1, 2, 3], 'round robin uses every partition');
    const msgs = kcatConsume(`${prefix}orders`, 48);
    assert.equal(msgs.length, 48);
    for (const r of results) assert.ok(msgs.some((m) => m.partition === r.partition && m.offset === r.offset), `${r.partition}/${r.offset} is in Kafka`);
  });

  it('keyed events land on Kafka\'s default-partitioner partition with key = partitionkey (binding §3.1)', async () => {
    await broker.client().createTopic('keyed', 6);
    const keys = ['alice', 'bob', 'carol', 'dave'];
    const results = await sdk.publishBatch('keyed', keys.map((k, i) => ev(`k${i}`, { partitionkey: k })));
    results.forEach((r, i) => assert.equal(r.partition, partitionForKey(keys[i]!, 6)));
    const msgs = kcatConsume(`${prefix}keyed`, 4);
    for (const m of msgs) assert.equal(m.partition, partitionForKey(m.key!, 6), `kcat sees key ${m.key} on its murmur2 partition`);
  });

  it('stores CloudEvents in binary mode: kcat reads ce_ headers, content-type and the raw data', async () => {
    await broker.client().createTopic('binding', 1);
    const event: MeshEvent = {
      attributes: { specversion: '1.0', id: 'b-1', source: '/src', type: 'com.example.created', datacontenttype: 'application/json', subject: 'sub-1', seq: 7, flag: true },
      data: Buffer.from('{"hello":"kafka"}'),
    };
    await sdk.publish('binding', event);
    const [m] = kcatConsume(`${prefix}binding`, 1);
    assert.equal(m!.payload, '{"hello":"kafka"}');
    assert.equal(m!.key, 'sub-1', 'key = the subject when there is no partitionkey');
    const h = new Map<string, string>();
    for (let i = 0; i < m!.headers.length; i += 2) h.set(m!.headers[i]!, m!.headers[i + 1]!);
    assert.equal(h.get('ce_specversion'), '1.0');
    assert.equal(h.get('ce_id'), 'b-1');
    assert.equal(h.get('ce_source'), '/src');
    assert.equal(h.get('ce_type'), 'com.example.created');
    assert.equal(h.get('ce_subject'), 'sub-1');
    assert.equal(h.get('content-type'), 'application/json');
    assert.equal(h.get('ce_seq'), '7');
    assert.equal(h.get('ce_flag'), 'true');
    assert.equal(h.has('ce_datacontenttype'), false, 'datacontenttype travels as content-type');
  });

  it('an event kcat produces in the binary binding reaches an evmesh subscriber as a CloudEvent', async () => {
    await broker.client().createTopic('from-kcat', 2);
    const got: Delivery[] = [];
    const sub = await sdk.subscribe({ topic: 'from-kcat', group: 'g-kcat', from: 'latest' }, (d) => { got.push(d); d.ack(); });
    try {
      await new Promise<void>((resolve, reject) => {
        const p = execFile('kcat', ['-b', brokers, '-P', '-t', `${prefix}from-kcat`, '-p', '1',
          '-H', 'ce_specversion=1.0', '-H', 'ce_id=kcat-1', '-H', 'ce_source=/kcat', '-H', 'ce_type=com.example.kcat',
          '-H', 'content-type=text/plain', '-H', 'ce_color=blue'], (err) => (err ? reject(err) : resolve()));
        p.stdin!.end('hello from kcat');
      });
      await until(() => got.length === 1, 'the kcat event delivered');
      const d = got[0]!;
      assert.equal(d.partition, 1);
      assert.deepEqual({ ...d.event.attributes }, {
        specversion: '1.0', id: 'kcat-1', source: '/kcat', type: 'com.example.kcat', datacontenttype: 'text/plain', color: 'blue',
      });
      assert.equal(Buffer.from(d.event.data!).toString(), 'hello from kcat');
    } finally {
      await sub.close();
    }
  });

  it('subscribers get every event once; acked offsets are committed to the Kafka group', async () => {
    await broker.client().createTopic('acks', 2);
    const got: Delivery[] = [];
    const sub = await sdk.subscribe({ topic: 'acks', group: 'workers', from: 'earliest' }, (d) => { got.push(d); d.ack(); });
    const sent = await broker.client().publishBatch('acks', Array.from({ length: 20 }, (_, i) => ev(`a-${i}`)));
    await until(() => got.length === 20, '20 deliveries');
    assert.deepEqual(got.map((d) => d.event.attributes.id).sort(), sent.map((_, i) => `a-${i}`).sort());
    await sub.close(); // commits on leave
    const ends = [0, 1].map((p) => sent.filter((r) => r.partition === p).length);
    assert.deepEqual(await committedOffsets(brokers, `${prefix}workers`, `${prefix}acks`, 2), ends);
  });

  it('commits only what clients acked: unacked events are not committed to the Kafka group', async () => {
    await broker.client().createTopic('partial', 1);
    const got: Delivery[] = [];
    // Acks the first 4 deliveries only; ackTimeoutMs keeps the rest in flight during the test.
    const sub = await sdk.subscribe({ topic: 'partial', group: 'slow', from: 'earliest', ackTimeoutMs: 60_000 }, (d) => {
      got.push(d);
      if (got.length <= 4) d.ack();
    });
    await broker.client().publishBatch('partial', Array.from({ length: 10 }, (_, i) => ev(`p-${i}`)));
    await until(() => got.length === 10, '10 deliveries');
    await sub.close();
    assert.deepEqual(await committedOffsets(brokers, `${prefix}slow`, `${prefix}partial`, 1), [4]);
  });
});

describe('evmesh start --storage kafka --kafka-brokers', () => {
  it('starts the CLI on Kafka; the admin API reports storage kafka and publishes land in Kafka', async () => {
    const prefix = uniquePrefix('cli');
    const p = await startBrokerProcess(['--storage', 'kafka', '--kafka-brokers', brokers, '--shards', '1', '--host', '127.0.0.1', '--tcp-port', '0', '--admin-port', '0', '--grpc-port', '0', '--http-port', '0', '--metrics-port', '0'], { EVMESH_KAFKA_PREFIX: prefix });
    try {
      assert.equal((await httpJson(p.ports.admin!, 'GET', '/status')).body.storage, 'kafka');
      const c = await EvmeshClient.connect({ host: '127.0.0.1', port: p.ports.tcp!, reconnect: false });
      const r = await c.publish('cli', ev('cli-1'));
      await c.close();
      const [m] = kcatConsume(`${prefix}cli`, 1);
      assert.equal(m!.offset, r.offset);
    } finally {
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0);
      await deleteKafkaTopics(brokers, [prefix]);
    }
  });
});
