// Topic deletion and inspection on the admin port (issue 5 item 6; docs/admin.md "Deleting a
// topic"). The controller core drives the deletion; every shard first lets go of the topic
// (Core.releaseTopic through the 'core.releaseTopic' shard query) and refuses while the topic
// has subscribers, so a deletion never silently ends a subscription.
import { checkTopicName } from '../core/topic-registry.js';
import { EvmeshError, fromWire } from '../errors.js';
import type { ShardAnswer } from '../shard/supervisor.js';

export interface TopicDeleteDeps {
  /** delivery.deadLetterTopic: the names it produces are protected. */
  readonly deadLetterTopic: string;
  /** The controller's Core.deleteTopic. */
  deleteTopic(name: string, shards: (step: 'releaseTopic' | 'releaseTopicStorage') => Promise<void>): Promise<void>;
  queryShards(name: string, arg?: unknown): Promise<ShardAnswer[]>;
}

/** Internal topics (`__evmesh…`: the subscription registry, Kafka's topic catalog) and the
 *  dead-letter topics (names the delivery.deadLetterTopic template can produce). */
export function isProtectedTopic(name: string, deadLetterTemplate: string): boolean {
  if (name.startsWith('__evmesh')) return true;
  const pattern = deadLetterTemplate.split(/(\{topic\}|\{group\})/)
    .map((part) => (part === '{topic}' || part === '{group}' ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${pattern}$`).test(name);
}

export async function deleteTopic(d: TopicDeleteDeps, name: string): Promise<void> {
  checkTopicName(name);
  if (isProtectedTopic(name, d.deadLetterTopic)) {
    throw new EvmeshError('EVM_FORBIDDEN', `topic ${name} is internal or a dead-letter topic (delivery.deadLetterTopic) and cannot be deleted`);
  }
  await d.deleteTopic(name, async (step) => {
    const failed = (await d.queryShards(`core.${step}`, name)).flatMap((a) => (a.error === undefined ? [] : [{ shard: a.shard, error: fromWire(a.error) }]));
    if (failed.length === 0) return;
    const conflicts = failed.filter((f) => f.error.code === 'EVM_CONFLICT');
    if (conflicts.length === 0) throw failed[0]!.error;
    const groups = [...new Set(conflicts.flatMap((f) => (f.error.props?.groups as string[] | undefined) ?? []))].sort();
    throw new EvmeshError('EVM_CONFLICT', `topic ${name} has subscribers (consumer groups ${groups.join(', ')}): end them first (DELETE /subscriptions/{id}, DELETE /clients/…)`, { groups });
  });
}
