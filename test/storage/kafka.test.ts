// KafkaStorage against the real single-node Apache Kafka broker (scripts/kafka/, issue 7 item 1):
// the same conformance suite as log and memory. Each storage instance gets its own topic/group
// prefix, so tests never see each other's topics on the shared broker.
import { after } from 'node:test';
import { KafkaStorage } from '../../src/storage/kafka/kafka-storage.js';
import { deleteKafkaTopics, kafkaUp, uniquePrefix } from '../helpers/kafka.js';
import { runStorageConformance } from './conformance.js';

const brokers = kafkaUp();
const prefixes: string[] = [];
const PREFIX_LENGTH = uniquePrefix('conf').length;

function make(prefix = uniquePrefix('conf')): KafkaStorage {
  prefixes.push(prefix);
  return new KafkaStorage({ brokers, prefix, lingerMs: 1, requestTimeoutMs: 15_000 });
}

runStorageConformance('kafka', async () => make(), {
  reopen: async (old) => make((old as KafkaStorage).prefix),
  maxTopicName: 249 - PREFIX_LENGTH,
});

after(() => deleteKafkaTopics(brokers, prefixes));
