// node-rdkafka, loaded once. It only works on the main thread (STACK.md: not context-aware,
// its callbacks run on the main loop), so importing this from a worker fails loudly here
// instead of aborting the process later.
import { isMainThread } from 'node:worker_threads';
import rdkafka from 'node-rdkafka';
import { EvmeshError } from '../../errors.js';

if (!isMainThread) throw new EvmeshError('EVM_INTERNAL', 'node-rdkafka cannot run in a worker thread; Kafka storage lives on the main thread');

export const { Producer, KafkaConsumer, AdminClient } = rdkafka;
export type { LibrdKafkaError, Message, MessageHeader, TopicPartitionOffset, WatermarkOffsets } from 'node-rdkafka';
import type { LibrdKafkaError } from 'node-rdkafka';

/** rdkafka.h RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: a message over kafka.maxMessageBytes. */
const MSG_SIZE_TOO_LARGE = 10;

/** An EvmeshError for a librdkafka error of `what`: EVM_TOO_LARGE for a message over the size
 *  limit, else EVM_UNAVAILABLE (the broker is down or unreachable, or timed out). */
export function kafkaError(what: string, err: unknown): EvmeshError {
  const e = err as { message?: string; code?: number } | undefined;
  const code = e?.code === MSG_SIZE_TOO_LARGE ? 'EVM_TOO_LARGE' : 'EVM_UNAVAILABLE';
  return new EvmeshError(code, `kafka ${what}: ${e?.message ?? String(err)}${e?.code !== undefined ? ` (code ${e.code})` : ''}`, { kafkaCode: e?.code });
}

/** Broker errors that clear up by themselves: leadership moving or not yet taken (right after a
 *  topic is created the metadata can name a leader before it serves requests), the group
 *  coordinator loading, a request that timed out. rdkafka.h rd_kafka_resp_err_t. */
const TRANSIENT = new Set([3 /* UNKNOWN_TOPIC_OR_PART */, 5 /* LEADER_NOT_AVAILABLE */, 6 /* NOT_LEADER_FOR_PARTITION */,
  7 /* REQUEST_TIMED_OUT */, 14 /* COORDINATOR_LOAD_IN_PROGRESS */, 15 /* COORDINATOR_NOT_AVAILABLE */, 16 /* NOT_COORDINATOR */]);

/** Runs the callback-style request `call` again while it fails with a transient broker error, for
 *  at most `timeoutMs`; rejects with the EvmeshError of the last failure. */
export async function retrying<T>(what: string, timeoutMs: number, call: (cb: (err: LibrdKafkaError | null | undefined, v: T) => void) => void): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    const r = await new Promise<{ err?: LibrdKafkaError; v?: T }>((resolve) => call((err, v) => resolve(err ? { err } : { v })));
    if (!r.err) return r.v as T;
    if (!TRANSIENT.has(r.err.code) || Date.now() + delay > deadline) throw kafkaError(what, r.err);
    await new Promise((res) => setTimeout(res, delay));
  }
}
