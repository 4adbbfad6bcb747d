// Client, subscription and shard management on the admin port (issue 5 item 6; upstream's admin
// endpoints H50/H51 where they exist, evmesh's own beside them; docs/admin.md).
// Per-shard state (connected clients, push counters) comes from RunningBroker.queryShards;
// subscriptions from the main thread's copy of the __evmesh.subscriptions registry.
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { EvmeshConfig } from '../config/schema.js';
import type { Client } from '../core/types.js';
import { EvmeshError } from '../errors.js';
import type { ShardAnswer } from '../shard/supervisor.js';
import { fromStructuredJson } from '../protocol/cloudevents-json.js';
import { publishDelete, publishPut, type RegistryReader, type SubscriptionSpec } from '../protocol/http/registry.js';
import { subscriptionSpec } from '../protocol/http/rest.js';
import { pull } from './pull.js';

export interface ManageDeps {
  readonly config: EvmeshConfig;
  readonly client: Client;
  readonly registry: RegistryReader;
  readonly ports: Readonly<Record<string, number>>;
  queryShards(name: string, arg?: unknown): Promise<ShardAnswer[]>;
  listTopics(): Promise<{ name: string; partitions: number; createdAt: number }[]>;
  /** Deletes a topic cluster-wide (src/admin/topics.ts). */
  deleteTopic(name: string): Promise<void>;
  /** The controller core's Core.retained (its partitions: all of them with Kafka, none else). */
  retained(names: readonly string[]): Promise<Record<string, number>>;
}

export type Reply = (status: number, body: unknown, contentType?: string) => void;

async function tcpClients(d: ManageDeps): Promise<Record<string, unknown>[]> {
  const answers = await d.queryShards('tcp.clients');
  return answers.flatMap((a) => (a.error === undefined && Array.isArray(a.value) ? (a.value as Record<string, unknown>[]).map((c) => ({ shard: a.shard, ...c })) : []));
}

async function httpClients(d: ManageDeps): Promise<{ websocket: unknown[]; webhooks: unknown[] }> {
  const answers = await d.queryShards('http.clients');
  const websocket: unknown[] = [];
  const stats = new Map<string, Record<string, number>[]>();
  for (const a of answers) {
    if (a.error !== undefined) continue;
    const v = a.value as { websocket: Record<string, unknown>[]; webhooks: Record<string, Record<string, number>> };
    websocket.push(...v.websocket.map((w) => ({ shard: a.shard, ...w })));
    for (const [id, s] of Object.entries(v.webhooks)) stats.set(id, [...(stats.get(id) ?? []), { shard: a.shard, ...s }]);
  }
  const webhooks = [...d.registry.specs.values()].map((s) => ({ ...s, shards: stats.get(s.id) ?? [] }));
  return { websocket, webhooks };
}

async function grpcClients(d: ManageDeps): Promise<Record<string, unknown>[]> {
  const answers = await d.queryShards('grpc.clients');
  return answers.flatMap((a) => (a.error === undefined && Array.isArray(a.value) ? (a.value as Record<string, unknown>[]).map((c) => ({ shard: a.shard, ...c })) : []));
}

/** Upstream's TopicProperties.messageCount (H51 GET /topic): the records each topic retains,
 *  summed over every node's partitions (Core.retained: log/memory end − start per partition, Kafka
 *  high − low watermark); null where a node could not tell (a shard down, a storage error). */
async function messageCounts(d: ManageDeps, names: readonly string[]): Promise<(number | null)[]> {
  const [own, answers] = await Promise.all([d.retained(names), d.queryShards('core.retained', names)]);
  const nodes = [own, ...answers.map((a) => (a.error === undefined ? a.value as Record<string, number> : undefined))];
  return names.map((n) => nodes.reduce<number | null>((sum, c) => (sum === null || c?.[n] === undefined ? null : sum + c[n]), 0));
}

async function kick(d: ManageDeps, query: string, remote: string): Promise<number> {
  const answers = await d.queryShards(query, remote);
  return answers.reduce((n, a) => n + (a.error === undefined ? (a.value as { kicked: number }).kicked : 0), 0);
}

async function createSubscription(d: ManageDeps, spec: SubscriptionSpec): Promise<SubscriptionSpec> {
  await publishPut(d.client, spec);
  await d.registry.applied(spec.id, true);
  return spec;
}

async function deleteSubscription(d: ManageDeps, id: string): Promise<void> {
  if (!d.registry.specs.has(id)) throw new EvmeshError('EVM_UNKNOWN_SUBSCRIPTION', `no subscription ${id}`);
  await publishDelete(d.client, id);
  await d.registry.applied(id, false);
}

/** Upstream's client shape (H51 /client/tcp, /client/http). */
function upstreamTcp(c: Record<string, unknown>): Record<string, unknown> {
  const [host, port] = String(c.remote).split(/:(?=\d+$)/);
  return { env: c.env ?? '', subsystem: c.subsystem ?? '', url: c.path ?? '', pid: c.pid ?? 0, host, port: Number(port), version: c.version ?? '', idc: c.idc ?? '', group: c.group ?? '', purpose: c.purpose ?? '', protocol: 'TCP' };
}

function upstreamHttp(s: SubscriptionSpec): Record<string, unknown> {
  const u = new URL(s.url);
  return { env: s.client?.env ?? '', subsystem: s.client?.sys ?? '', url: s.url, pid: Number(s.client?.pid ?? 0), host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), version: '', idc: s.client?.idc ?? '', group: s.group, purpose: 'sub', protocol: 'HTTP' };
}

/** Upstream's text endpoints for EventMesh TCP clients (H51 /clientManage/*, any method);
 *  undefined for the redirects, which need a registry of meshes. */
async function clientManage(d: ManageDeps, op: string, q: URLSearchParams): Promise<string | undefined> {
  const clients = (await tcpClients(d)).filter((c) => c.protocol === 'eventmesh-tcp');
  const line = (c: Record<string, unknown>): string => `${String(c.env ?? '')}|${String(c.subsystem ?? '')}|${String(c.group ?? '')}|${String(c.purpose ?? '')}|${String(c.remote)}`;
  const kickAll = async (list: Record<string, unknown>[]): Promise<string> => {
    let n = 0;
    for (const c of list) n += await kick(d, 'tcp.kick', String(c.remote));
    return `${n} clients rejected\n`;
  };
  switch (op) {
    case 'showClient': {
      const bySystem = new Map<string, number>();
      for (const c of clients) bySystem.set(String(c.subsystem ?? ''), (bySystem.get(String(c.subsystem ?? '')) ?? 0) + 1);
      return [...bySystem].map(([s, n]) => `System=${s} | ClientNum=${n}\n`).join('');
    }
    case 'showClientBySystem': return clients.filter((c) => c.subsystem === q.get('subsystem')).map((c) => `${line(c)}\n`).join('');
    case 'showListenClientByTopic': {
      const topic = q.get('topic') ?? '';
      return clients.filter((c) => Array.isArray(c.subscriptions) && c.subscriptions.includes(topic)).map((c) => `${line(c)}\n`).join('');
    }
    case 'rejectAllClient': return kickAll(clients);
    case 'rejectClientBySubSystem': return kickAll(clients.filter((c) => c.subsystem === q.get('subsystem')));
    case 'rejectClientByIpPort': return kickAll(clients.filter((c) => c.remote === `${q.get('ip') ?? ''}:${q.get('port') ?? ''}`));
    default: return undefined;
  }
}

/** A topic name from a path segment; a malformed %-escape is a bad name, not a crash. */
function pathName(segment: string): string {
  try { return decodeURIComponent(segment); } catch { throw new EvmeshError('EVM_BAD_TOPIC', `invalid topic name ${JSON.stringify(segment)}`); }
}

/** Answers a management request; false when the path is not one of these. */
export async function manageRoute(req: IncomingMessage, url: URL, path: string, body: () => Promise<Record<string, unknown>>, reply: Reply, d: ManageDeps): Promise<boolean> {
  const m = req.method;
  // ---- evmesh's own ----
  if (path === '/clients' && m === 'GET') {
    const [tcp, http, grpc] = await Promise.all([tcpClients(d), httpClients(d), grpcClients(d)]);
    reply(200, { tcp, ...http, grpc });
    return true;
  }
  const kickPath = /^\/clients\/(tcp|websocket)\/([^/]+)$/.exec(path);
  if (kickPath && m === 'DELETE') {
    const remote = decodeURIComponent(kickPath[2]!);
    const kicked = await kick(d, kickPath[1] === 'tcp' ? 'tcp.kick' : 'http.kick', remote);
    if (kicked === 0) throw new EvmeshError('EVM_UNKNOWN_SUBSCRIPTION', `no ${kickPath[1]} client ${remote}`);
    reply(200, { kicked });
    return true;
  }
  if (path === '/subscriptions') {
    if (m === 'GET') { reply(200, [...d.registry.specs.values()]); return true; }
    if (m === 'POST') { reply(201, await createSubscription(d, subscriptionSpec(await body(), 'admin'))); return true; }
  }
  const sub = /^\/subscriptions\/([^/]+)$/.exec(path);
  if (sub) {
    const id = decodeURIComponent(sub[1]!);
    if (m === 'GET') {
      const spec = d.registry.specs.get(id);
      if (spec === undefined) throw new EvmeshError('EVM_UNKNOWN_SUBSCRIPTION', `no subscription ${id}`);
      reply(200, spec);
      return true;
    }
    if (m === 'DELETE') { await deleteSubscription(d, id); reply(200, { id, deleted: true }); return true; }
  }
  const topic = /^\/topics\/([^/]+)$/.exec(path);
  if (topic) {
    const name = pathName(topic[1]!);
    if (m === 'GET') {
      const meta = (await d.listTopics()).find((t) => t.name === name);
      if (meta === undefined) throw new EvmeshError('EVM_UNKNOWN_TOPIC', `unknown topic ${name}`);
      reply(200, meta);
      return true;
    }
    if (m === 'DELETE') { await d.deleteTopic(name); reply(200, { name, deleted: true }); return true; }
  }
  if (path === '/shards' && m === 'GET') {
    reply(200, (await d.queryShards('core.stats')).map((a) => (a.error === undefined ? { shard: a.shard, status: 'UP', stats: a.value } : { shard: a.shard, status: 'DOWN', error: a.error })));
    return true;
  }
  // ---- upstream's (H51) ----
  if (path === '/client/tcp') {
    if (m === 'GET') { reply(200, (await tcpClients(d)).map(upstreamTcp)); return true; }
    if (m === 'DELETE') {
      // Upstream never decodes this body (H50); evmesh reads {host, port} from JSON or the query.
      const b = await body();
      const host = b.host ?? url.searchParams.get('host'), port = b.port ?? url.searchParams.get('port');
      if (host === undefined || host === null || port === undefined || port === null) throw new EvmeshError('EVM_BAD_REQUEST', 'host and port are required');
      await kick(d, 'tcp.kick', `${String(host)}:${String(port)}`);
      reply(200, '', 'text/plain');
      return true;
    }
  }
  if (path === '/client/http') {
    if (m === 'GET') { reply(200, [...d.registry.specs.values()].map(upstreamHttp)); return true; }
    if (m === 'DELETE') {
      const b = await body();
      const target = b.url ?? url.searchParams.get('url');
      for (const s of [...d.registry.specs.values()].filter((s) => s.url === target)) await deleteSubscription(d, s.id);
      reply(200, '', 'text/plain');
      return true;
    }
  }
  if (path === '/client/grpc') {
    if (m === 'GET') { reply(200, await grpcClients(d)); return true; }
    if (m === 'DELETE') {
      // Upstream removes the gRPC webhook clients of a URL (H51); evmesh reads {url} from JSON or the query.
      const b = await body();
      const target = b.url ?? url.searchParams.get('url');
      if (typeof target !== 'string' || target === '') throw new EvmeshError('EVM_BAD_REQUEST', 'url is required');
      await kick(d, 'grpc.kick', target);
      reply(200, '', 'text/plain');
      return true;
    }
  }
  if (path === '/topic') {
    if (m === 'GET') {
      const topics = await d.listTopics();
      const counts = await messageCounts(d, topics.map((t) => t.name));
      reply(200, topics.map((t, i) => ({ name: t.name, messageCount: counts[i], partitions: t.partitions })));
      return true;
    }
    if (m === 'POST') {
      const b = await body();
      const name = b.name ?? url.searchParams.get('name');
      if (typeof name !== 'string' || name === '') throw new EvmeshError('EVM_BAD_REQUEST', 'name is required');
      await d.client.createTopic(name);
      reply(200, '', 'text/plain');
      return true;
    }
    if (m === 'DELETE') {
      // Upstream never decodes this body (H50); evmesh reads {name} from JSON, a form or the query.
      const b = await body();
      const name = b.name ?? url.searchParams.get('name');
      if (typeof name !== 'string' || name === '') throw new EvmeshError('EVM_BAD_REQUEST', 'name is required');
      await d.deleteTopic(name);
      reply(200, '', 'text/plain');
      return true;
    }
  }
  if (path === '/event') {
    if (m === 'GET') {
      const topic = url.searchParams.get('topicName'), offset = url.searchParams.get('offset'), length = url.searchParams.get('length');
      if (!topic || offset === null || length === null || !/^\d+$/.test(offset) || !/^\d+$/.test(length)) {
        throw new EvmeshError('EVM_BAD_REQUEST', 'topicName, offset and length are required', { status: 401 }); // H51: 401 upstream
      }
      const batch = await pull(d.client, topic, `__admin.event.${randomUUID()}`, Math.min(Number(length), 10_000) || 1, 500, { offset: Number(offset) });
      batch.release();
      reply(200, batch.events.map((e) => JSON.stringify((e as { event: unknown }).event)));
      return true;
    }
    if (m === 'POST') {
      const ev = fromStructuredJson(await body());
      const topic = ev.attributes.subject;
      if (typeof topic !== 'string' || topic === '') throw new EvmeshError('EVM_BAD_REQUEST', 'the event needs a subject: it is the topic');
      await d.client.publish(topic, ev);
      reply(200, '', 'text/plain');
      return true;
    }
  }
  const cm = /^\/clientManage\/(\w+)$/.exec(path);
  if (cm) {
    const text = await clientManage(d, cm[1]!, url.searchParams);
    if (text === undefined) return false;
    reply(200, text, 'text/plain; charset=utf-8');
    return true;
  }
  if (path === '/configuration' && m === 'GET') {
    const c = d.config;
    reply(200, {
      eventMeshEnv: 'evmesh', eventMeshIDC: 'evmesh', eventMeshCluster: 'evmesh', eventMeshServerIp: c.host, eventMeshServerSecurityEnable: false,
      eventMeshServerRegistryEnable: false, eventMeshName: 'evmesh', sysID: '0000', namesrvAddr: '',
      eventMeshTcpServerPort: d.ports.tcp ?? c.ports.tcp, eventMeshHttpServerPort: d.ports.http ?? c.ports.http, eventMeshHttpServerUseTls: false,
      eventMeshGrpcServerPort: d.ports.grpc ?? c.ports.grpc, eventMeshGrpcServerUseTls: false,
    });
    return true;
  }
  if (path === '/meta' && m === 'GET') { reply(200, []); return true; }
  return false;
}
