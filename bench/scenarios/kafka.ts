// evmesh on Kafka (issue 7): a 2-shard broker (`storage: kafka`, its own process, like a real
// deployment) fed by 16 EvmeshClient binary-TCP connections publishing 1 KiB events in batches,
// acked only once Kafka acknowledged them (acks=all) → events/s; in the SAME run the ceiling: a
// raw node-rdkafka producer (same producer settings, in-flight bounded the same way) writing the
// same events in the same CloudEvents binary binding to the same broker; and end-to-end
// publish → push latency through Kafka at a fixed rate with one SDK subscriber. The Kafka broker
// (scripts/services.sh up kafka) and every client share this machine's cores, whose load by other
// work moves the rates (and their ratio); next to them it reports where the CPU goes: CPU per
// acked event of each side, all threads.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import rdkafka from 'node-rdkafka';
import { encodeEvent } from '../../src/core/codec.js';
import type { MeshEvent } from '../../src/core/types.js';
import { toKafka } from '../../src/storage/kafka/cloudevents-binding.js';
import { KAFKA_DEFAULTS } from '../../src/storage/kafka/options.js';
import { nowMs } from '../lib/histogram.js';
import type { ScenarioResult } from '../lib/report.js';
import { runLatency, runPublish } from './tcp-binary.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, here.includes(`${'/'}dist${'/'}`) ? '../../..' : '../..');
const PARTITIONS = 8;
const LATENCY_RATE = Number(process.env.BENCH_KAFKA_RATE ?? 5_000);

function kafkaUp(): string {
  return execFileSync('bash', [join(root, 'scripts/services.sh'), 'up', 'kafka'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
}

/** CPU seconds (user + system, all threads) a process has used: /proc/PID/stat utime + stime, in
 *  clock ticks of 1/100 s (Linux USER_HZ). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** This process's CPU seconds (all threads: JS, librdkafka's). */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** `evmesh start --storage kafka` as a child process (compiled CLI); `fn` gets its TCP port and pid. */
async function withBroker<T>(brokers: string, prefix: string, fn: (port: number, pid: number) => Promise<T>): Promise<T> {
  const main = join(root, 'dist/src/cli/main.js');
  const child = spawn(process.execPath, [main, 'start', '--shards', '2', '--storage', 'kafka', '--kafka-brokers', brokers, '--host', '127.0.0.1', '--tcp-port', '0', '--admin-port', '0', '--grpc-port', '0', '--http-port', '0', '--metrics-port', '0'], {
    env: { ...process.env, EVMESH_KAFKA_PREFIX: prefix, EVMESH_TOPICS_DEFAULT_PARTITIONS: String(PARTITIONS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const ports = await new Promise<Record<string, number>>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /^evmesh ready (\{.*\})$/m.exec(out);
        if (m) resolve(JSON.parse(m[1]!) as Record<string, number>);
      });
      void exited.then((code) => reject(new Error(`evmesh exited (${String(code)}) before ready`)));
    });
    return await fn(ports.tcp!, child.pid!);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** The ceiling: one raw node-rdkafka producer with evmesh's producer settings, in-flight bounded
 *  at the same limit, producing the same 1 KiB CloudEvents round robin over the partitions. */
async function runRawProducer(brokers: string, topic: string, warmupMs: number, durationMs: number): Promise<{ eventsPerSec: number; events: number; errors: number; cpuUsPerEvent: number }> {
  const admin = rdkafka.AdminClient.create({ 'bootstrap.servers': brokers });
  await new Promise<void>((resolve, reject) => admin.createTopic({ topic, num_partitions: PARTITIONS, replication_factor: 1 }, 10_000, (e) => (e ? reject(e) : resolve())));
  admin.disconnect();
  const p = new rdkafka.Producer({
    'bootstrap.servers': brokers, 'enable.idempotence': true, 'linger.ms': KAFKA_DEFAULTS.lingerMs, 'batch.size': KAFKA_DEFAULTS.batchBytes,
    'compression.codec': KAFKA_DEFAULTS.compression, 'message.max.bytes': KAFKA_DEFAULTS.maxMessageBytes, // also caps a ProduceRequest's size
    'queue.buffering.max.messages': KAFKA_DEFAULTS.maxInFlight * 2, 'queue.buffering.max.kbytes': 2_097_151, dr_cb: true,
  }, { 'request.required.acks': -1 });
  await new Promise<void>((resolve, reject) => p.connect({ timeout: 10_000 }, (e) => (e ? reject(e) : resolve())));
  const data = new Uint8Array(1024).fill(0x61);
  // The messages are built before the clock starts (a ceiling does no per-event work of its own).
  const pool = Array.from({ length: 4096 }, (_, i) => {
    const ev: MeshEvent = { attributes: { specversion: '1.0', id: `e${i}`, source: '/bench', type: 'bench.event' }, data };
    return toKafka(topic, encodeEvent(ev));
  });
  let seq = 0, inFlight = 0, acked = 0, errors = 0;
  const next = () => pool[seq++ % pool.length]!;
  let wake: (() => void) | undefined;
  p.on('delivery-report', (err) => {
    inFlight--;
    if (err) errors++; else acked++;
    if (wake && inFlight < KAFKA_DEFAULTS.maxInFlight / 2) { const w = wake; wake = undefined; w(); }
  });
  const poller = setInterval(() => p.poll(), 1);
  let partition = 0;
  const produceFor = async (ms: number): Promise<void> => {
    const end = nowMs() + ms;
    while (nowMs() < end) {
      while (inFlight < KAFKA_DEFAULTS.maxInFlight && nowMs() < end) {
        for (let i = 0; i < 256; i++) {
          const r = next();
          p.produce(topic, partition++ % PARTITIONS, r.value, r.key, Date.now(), undefined, r.headers);
          inFlight++;
        }
        await new Promise((r) => setImmediate(r)); // let delivery reports in
      }
      if (inFlight >= KAFKA_DEFAULTS.maxInFlight) await new Promise<void>((r) => { wake = r; });
    }
  };
  await produceFor(warmupMs);
  // The measured slice starts with nothing in flight, as each evmesh slice does.
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 1));
  const t0 = nowMs();
  const cpu0 = ownCpuSeconds();
  const ackedAtStart = acked;
  await produceFor(durationMs);
  const secs = (nowMs() - t0) / 1000;
  const events = acked - ackedAtStart;
  const cpuUsPerEvent = ((ownCpuSeconds() - cpu0) * 1e6) / events;
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  clearInterval(poller);
  await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  return { eventsPerSec: events / secs, events, errors, cpuUsPerEvent };
}

/** Raw and evmesh alternate, ROUNDS times each for durationMs / ROUNDS: the Kafka broker and
 *  every process share 2 cores with other work, so alternating short runs keeps slow drifts of
 *  the machine's load from landing on one side only. */
const ROUNDS = 3;
/** Each side first runs this long unmeasured: every round starts a fresh evmesh process whose
 *  code is not optimized yet — a cold 1.7 s slice cost the broker 25–31 µs CPU/event against
 *  21–22 µs after 1 s of warm-up (three paired runs), while the raw producer's JS is warm after
 *  the first round and librdkafka is native. The raw producer gets the same warm-up. */
const WARMUP_MS = 1000;

/** Deletes the Kafka topics whose names start with `prefix`: each run writes GBs (the test
 *  broker's disk filled up with 54 GB of earlier runs' topics). */
async function deleteTopics(brokers: string, prefix: string): Promise<void> {
  const p = new rdkafka.Producer({ 'bootstrap.servers': brokers });
  await new Promise<void>((resolve, reject) => p.connect({ timeout: 10_000 }, (e) => (e ? reject(e) : resolve())));
  const md = await new Promise<rdkafka.Metadata>((resolve, reject) => p.getMetadata({ timeout: 10_000 }, (e, m) => (e ? reject(e) : resolve(m))));
  await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  const admin = rdkafka.AdminClient.create({ 'bootstrap.servers': brokers });
  const names = md.topics.map((t) => t.name).filter((n) => n.startsWith(prefix));
  await Promise.all(names.map((n) => new Promise<void>((resolve) => admin.deleteTopic(n, 10_000, () => resolve()))));
  admin.disconnect();
}

export async function kafkaScenario(durationMs: number): Promise<ScenarioResult> {
  const brokers = kafkaUp();
  const prefix = `bench-${randomUUID().slice(0, 8)}-`;
  try {
    return await measure(brokers, prefix, durationMs);
  } finally {
    await deleteTopics(brokers, prefix);
  }
}

async function measure(brokers: string, prefix: string, durationMs: number): Promise<ScenarioResult> {
  const slice = Math.max(1000, Math.round(durationMs / ROUNDS));
  const rounds: { raw: number; evmesh: number; rawCpuUs: number; brokerCpuUs: number; clientCpuUs: number }[] = [];
  let errors = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const raw = await runRawProducer(brokers, `${prefix}raw${r}`, WARMUP_MS, slice);
    const pub = await withBroker(brokers, `${prefix}r${r}-`, async (port, pid) => {
      await runPublish(port, WARMUP_MS);
      const broker0 = processCpuSeconds(pid), client0 = ownCpuSeconds();
      const run = await runPublish(port, slice);
      return { ...run, brokerCpuUs: ((processCpuSeconds(pid) - broker0) * 1e6) / run.events, clientCpuUs: ((ownCpuSeconds() - client0) * 1e6) / run.events };
    });
    errors += raw.errors + pub.errors;
    rounds.push({ raw: raw.eventsPerSec, evmesh: pub.eventsPerSec, rawCpuUs: raw.cpuUsPerEvent, brokerCpuUs: pub.brokerCpuUs, clientCpuUs: pub.clientCpuUs });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ceiling = { eventsPerSec: mean(rounds.map((r) => r.raw)), cpuUsPerEvent: mean(rounds.map((r) => r.rawCpuUs)) };
  const publish = { eventsPerSec: mean(rounds.map((r) => r.evmesh)), errors, brokerCpuUsPerEvent: mean(rounds.map((r) => r.brokerCpuUs)), clientCpuUsPerEvent: mean(rounds.map((r) => r.clientCpuUs)) };
  const latency = await withBroker(brokers, prefix, (port) => runLatency(port, durationMs, LATENCY_RATE));
  return {
    scenario: 'kafka',
    description: `evmesh storage=kafka (2 shards, own process; producer idempotent acks=all linger ${KAFKA_DEFAULTS.lingerMs} ms) fed by 16 SDK binary-TCP connections, 1 KiB events, ${PARTITIONS} partitions, alternating with the ceiling ${ROUNDS}×, each after ${WARMUP_MS} ms unmeasured; ceiling = a raw node-rdkafka producer writing the same CloudEvents (binary binding) with the same settings to the same single-node KRaft broker in the same run; latency = publish → push through Kafka to one SDK subscriber at ${LATENCY_RATE} events/s`,
    rows: [
      { metric: 'publish rate (Kafka-acked)', value: publish.eventsPerSec, unit: 'events/s', ceiling: ceiling.eventsPerSec, target: { op: 'ratio>=', value: 0.8 } },
      { metric: 'CPU per acked event: evmesh broker (all threads)', value: publish.brokerCpuUsPerEvent, unit: 'µs' },
      { metric: 'CPU per acked event: the 16 SDK clients', value: publish.clientCpuUsPerEvent, unit: 'µs' },
      { metric: 'CPU per acked event: raw producer (all threads)', value: ceiling.cpuUsPerEvent, unit: 'µs' },
      { metric: `push rate at ${LATENCY_RATE / 1000}k/s offered`, value: latency.deliveredPerSec, unit: 'events/s' },
      { metric: 'p50 publish→push', value: latency.latency.p50Ms, unit: 'ms' },
      { metric: 'p99 publish→push', value: latency.latency.p99Ms, unit: 'ms' },
      { metric: 'p99.9 publish→push', value: latency.latency.p999Ms, unit: 'ms' },
    ],
    details: { rounds, ceiling, publish, latency },
  };
}
