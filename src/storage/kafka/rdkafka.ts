// node-rdkafka, loaded once. It only works on the main thread (STACK.md: not context-aware,
// its callbacks run on the main loop), so importing this from a worker fails loudly here
// instead of aborting the process later.
import { isMainThread } from 'node:worker_threads';
import rdkafka from 'node-rdkafka';
import { EvmeshError } from '../../errors.js';

if (!isMainThread) throw new EvmeshError('EVM_INTERNAL', 'node-rdkafka cannot run in a worker thread; Kafka storage lives on the main thread');

export const { Producer, KafkaConsumer, AdminClient } = rdkafka;
export type { LibrdKafkaError, Message, MessageHeader } from 'node-rdkafka';

/** An EvmeshError for a librdkafka error of `what` (every Kafka failure a client sees is
 *  EVM_UNAVAILABLE: the broker is down or unreachable, or timed out). */
export function kafkaError(what: string, err: unknown): EvmeshError {
  const e = err as { message?: string; code?: number } | undefined;
  return new EvmeshError('EVM_UNAVAILABLE', `kafka ${what}: ${e?.message ?? String(err)}${e?.code !== undefined ? ` (code ${e.code})` : ''}`, { kafkaCode: e?.code });
}
