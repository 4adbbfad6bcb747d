// Topic deletion on the admin port and the HTTP port's /eventmesh/topic/delete (issue 5 item 6,
// spec H37; docs/admin.md "Deleting a topic"). The controller core drives the deletion; every
// shard first lets go of the topic (Core.releaseTopic through the 'core.releaseTopic' shard
// query) and refuses while the topic has subscribers, so a deletion never silently ends a
// subscription. The HTTP port runs in the shards: it asks the main thread (DELETE_TOPICS_ASK).
import { checkTopicName } from '../core/topic-registry.js';
import { EvmeshError, fromWire, toEvmeshError } from '../errors.js';
import type { ShardAnswer } from '../shard/supervisor.js';

export interface TopicDeleteDeps {
  /** delivery.deadLetterTopic: the names it produces are protected. */
  readonly deadLetterTopic: string;
  /** The controller's Core.deleteTopic. */
  deleteTopic(name: string, shards: (step: 'releaseTopic' | 'releaseTopicStorage') => Promise<void>): Promise<void>;
  queryShards(name: string, arg?: unknown): Promise<ShardAnswer[]>;
  /** The controller's topics (Core.listTopics). */
  listTopics(): Promise<readonly { name: string }[]>;
}

/** The shards' ask (PluginContext.ask) for deleteTopics; arg: the names. */
export const DELETE_TOPICS_ASK = 'admin.deleteTopics';

/** Internal topics (`__evmesh…`: the subscription registry, Kafka's topic catalog) and the
 *  dead-letter topics (names the delivery.deadLetterTopic template can produce). */
export function isProtectedTopic(name: string, deadLetterTemplate: string): boolean {
  if (name.startsWith('__evmesh')) return true;
  const pattern = deadLetterTemplate.split(/(\{topic\}|\{group\})/)
    .map((part) => (part === '{topic}' || part === '{group}' ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${pattern}$`).test(name);
}

function checkDeletable(d: TopicDeleteDeps, name: string): void {
  checkTopicName(name);
  if (isProtectedTopic(name, d.deadLetterTopic)) {
    throw new EvmeshError('EVM_FORBIDDEN', `topic ${name} is internal or a dead-letter topic (delivery.deadLetterTopic) and cannot be deleted`);
  }
}

export async function deleteTopic(d: TopicDeleteDeps, name: string): Promise<void> {
  checkDeletable(d, name);
  await d.deleteTopic(name, async (step) => {
    const failed = (await d.queryShards(`core.${step}`, name)).flatMap((a) => (a.error === undefined ? [] : [{ shard: a.shard, error: fromWire(a.error) }]));
    if (failed.length === 0) return;
    const conflicts = failed.filter((f) => f.error.code === 'EVM_CONFLICT');
    if (conflicts.length === 0) throw failed[0]!.error;
    const groups = [...new Set(conflicts.flatMap((f) => (f.error.props?.groups as string[] | undefined) ?? []))].sort();
    throw new EvmeshError('EVM_CONFLICT', `topic ${name} has subscribers (consumer groups ${groups.join(', ')}): end them first (DELETE /subscriptions/{id}, DELETE /clients/…)`, { groups });
  });
}

/** H37: deletes several topics, upstream's all-or-nothing check first: any unknown name →
 *  EVM_UNKNOWN_TOPIC with props.unknown and nothing deleted (so are bad and protected names).
 *  Then one by one as deleteTopic; a refusal (409 subscribed) stops there and says which of the
 *  names were deleted before it. */
export async function deleteTopics(d: TopicDeleteDeps, list: readonly string[]): Promise<void> {
  const names = [...new Set(list)];
  for (const name of names) checkDeletable(d, name);
  const known = new Set((await d.listTopics()).map((t) => t.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new EvmeshError('EVM_UNKNOWN_TOPIC', `unknown topics ${unknown.join(', ')}`, { unknown });
  for (let i = 0; i < names.length; i++) {
    try {
      await deleteTopic(d, names[i]!);
    } catch (err) {
      if (i === 0) throw err;
      const e = toEvmeshError(err);
      throw new EvmeshError(e.code, `${e.message} (deleted before it: ${names.slice(0, i).join(', ')})`, e.props);
    }
  }
}
