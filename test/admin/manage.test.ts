// Admin API management endpoints (issue 5 item 6; spec H50/H51 where upstream has them):
// clients of every protocol across shards, kicking them, subscriptions, topics, shards.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { RunningBroker } from '../../src/broker.js';
import { httpJson } from '../helpers/http.js';
import { httpBroker, send, sink } from '../protocol/http-helpers.js';
import { EventMeshTcpClient } from '../../src/sdk/eventmesh-tcp.js';

let broker: RunningBroker;
before(async () => { broker = await httpBroker(); });
after(async () => { await broker.stop(); });
const admin = () => broker.ports.admin!;

test('H50: OPTIONS answers the CORS preflight; JSON answers allow any origin', async () => {
  const r = await send(admin(), 'OPTIONS', '/client/tcp', {});
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-methods'], '*');
  assert.equal(r.headers['access-control-max-age'], '86400');
  assert.equal((await send(admin(), 'GET', '/status', {})).headers['access-control-allow-origin'], '*');
});

test('subscriptions: create, list, inspect, delete through the admin port; pushes follow', async () => {
  const s = await sink(() => ({ status: 200 }));
  try {
    const created = await httpJson(admin(), 'POST', '/subscriptions', { topic: 'adm-sub', url: s.url, group: 'adm-g' });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    assert.ok((await httpJson(admin(), 'GET', '/subscriptions')).body.some((x: { id: string }) => x.id === id));
    assert.equal((await httpJson(admin(), 'GET', `/subscriptions/${id}`)).body.url, s.url);
    // Also seen by the HTTP port of whichever shard answers.
    for (let i = 0; i < 20 && (await send(broker.ports.http!, 'GET', `/subscriptions/${id}`, {})).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
    await send(broker.ports.http!, 'POST', '/topics/adm-sub/events', { 'content-type': 'application/cloudevents+json' }, JSON.stringify({ specversion: '1.0', id: 'a1', source: '/a', type: 't' }));
    await s.waitFor(1);
    const http = await httpJson(admin(), 'GET', '/client/http');
    assert.ok(http.body.some((c: { url: string; protocol: string; group: string }) => c.url === s.url && c.protocol === 'HTTP' && c.group === 'adm-g'));
    assert.equal((await httpJson(admin(), 'DELETE', `/subscriptions/${id}`)).status, 200);
    const gone = await httpJson(admin(), 'GET', `/subscriptions/${id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 'EVM_UNKNOWN_SUBSCRIPTION');
  } finally {
    await s.close();
  }
});

test('clients: EventMesh TCP and WebSocket clients of every shard are listed and can be kicked', async () => {
  const tcp = await EventMeshTcpClient.connect({ host: '127.0.0.1', port: broker.ports.tcp!, reconnect: false, userAgent: { group: 'adm-tcp-group', purpose: 'sub', subsystem: '5023', env: 'dev', idc: 'idc1', pid: 77, version: '2.0' } });
  const ws = new WebSocket(`ws://127.0.0.1:${broker.ports.http}/ws?topic=adm-ws&group=adm-wsg`);
  await new Promise((r, j) => { ws.once('message', r); ws.once('error', j); });
  try {
    const all = await httpJson(admin(), 'GET', '/clients');
    const t = all.body.tcp.find((c: { group?: string }) => c.group === 'adm-tcp-group');
    assert.ok(t, JSON.stringify(all.body));
    assert.equal(t.protocol, 'eventmesh-tcp');
    assert.equal(typeof t.shard, 'number');
    assert.ok(all.body.websocket.some((w: { topic: string; group: string }) => w.topic === 'adm-ws' && w.group === 'adm-wsg'));
    const upstream = await httpJson(admin(), 'GET', '/client/tcp');
    const u = upstream.body.find((c: { group: string }) => c.group === 'adm-tcp-group');
    assert.deepEqual([u.subsystem, u.env, u.idc, u.purpose, u.protocol], ['5023', 'dev', 'idc1', 'sub', 'TCP']);
    const closed = new Promise((r) => ws.once('close', r));
    const kickWs = await httpJson(admin(), 'DELETE', `/clients/websocket/${encodeURIComponent(all.body.websocket[0].remote)}`);
    assert.equal(kickWs.status, 200);
    await closed;
    const kick = await httpJson(admin(), 'DELETE', `/clients/tcp/${encodeURIComponent(t.remote)}`);
    assert.deepEqual(kick.body, { kicked: 1 });
    assert.equal((await httpJson(admin(), 'DELETE', '/clients/tcp/1.2.3.4%3A5')).status, 404);
  } finally {
    ws.terminate();
    await tcp.close().catch(() => {});
  }
});

test('topics (H51 /topic), events (/event), configuration and shard status', async () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  assert.equal((await send(admin(), 'POST', '/topic', form, 'name=adm-topic')).status, 200);
  assert.ok((await httpJson(admin(), 'GET', '/topic')).body.some((t: { name: string }) => t.name === 'adm-topic'));
  const ev = new URLSearchParams({ specversion: '1.0', id: 'ev-1', source: '/adm', type: 't', subject: 'adm-topic', datacontenttype: 'text/plain', data: 'hi' });
  assert.equal((await send(admin(), 'POST', '/event', form, ev.toString())).status, 200);
  let events: string[] = [];
  for (let i = 0; i < 10 && events.length === 0; i++) events = (await httpJson(admin(), 'GET', '/event?topicName=adm-topic&offset=0&length=10')).body;
  assert.equal(JSON.parse(events[0]!).id, 'ev-1');
  assert.equal((await httpJson(admin(), 'GET', '/event?topicName=adm-topic')).status, 401);
  const conf = (await httpJson(admin(), 'GET', '/configuration')).body;
  assert.equal(conf.eventMeshHttpServerPort, broker.ports.http);
  const shards = (await httpJson(admin(), 'GET', '/shards')).body;
  assert.deepEqual(shards.map((s: { shard: number; status: string }) => [s.shard, s.status]), [[0, 'UP'], [1, 'UP']]);
});
