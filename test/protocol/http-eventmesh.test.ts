// EventMesh HTTP on the HTTP port (spec H2–H37): request codes with form bodies, path-based
// endpoints, webhook pushes in upstream's format and its retCode contract (H40, H42).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningBroker } from '../../src/broker.js';
import { httpBroker, send, sink } from './http-helpers.js';

let broker: RunningBroker;
before(async () => { broker = await httpBroker({ 'webhook.backoffBaseMs': 20, 'webhook.maxAttempts': 3 }); });
after(async () => { await broker.stop(); });
const port = () => broker.ports.http!;

const IDENTITY = { env: 'test', idc: 'idc1', sys: '0000', pid: '4242', language: 'JAVA', version: '1.0', protocoldesc: 'http', protocolversion: '1.0' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function code(c: number | string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return send(port(), 'POST', '/', { ...FORM, ...IDENTITY, code: String(c), protocoltype: 'eventmeshmessage', ...headers }, new URLSearchParams(fields).toString());
}

function msg(topic: string, content: string, id: string): Record<string, string> {
  return { topic, content, bizseqno: id, uniqueid: id, producergroup: 'pg', ttl: '3000' };
}

async function subscribe(topic: string, url: string, group: string, type: 'ASYNC' | 'SYNC' = 'ASYNC') {
  const r = await code(206, { topic: JSON.stringify([{ topic, mode: 'CLUSTERING', type }]), url, consumerGroup: group });
  assert.equal(r.json.retCode, 0, r.text);
}

test('H4: unknown or missing code → 400 retCode 2; bad version → 400 empty; PUT → 405', async () => {
  const r = await send(port(), 'POST', '/any/path', { code: '999' }, '');
  assert.equal(r.status, 400);
  assert.equal(r.json.retCode, 2);
  assert.equal(r.headers.code, '999');
  const none = await send(port(), 'POST', '/', {}, '');
  assert.equal(none.status, 400);
  assert.equal(none.headers.code, '0');
  assert.equal((await send(port(), 'POST', '/', { code: '104', version: '3.0' }, '')).status, 400);
  assert.equal((await send(port(), 'PUT', '/', { code: '104' }, '')).status, 405);
});

test('H9 104: publish answers retCode 0 with SendResult; identity checks → 6; missing fields → 7 (H6 shape)', async () => {
  const ok = await code(104, msg('em-async', 'hello', 'id-1'));
  assert.equal(ok.status, 200);
  assert.match(String(ok.headers['content-type']), /^text\/plain/);
  assert.equal(ok.headers.code, '104');
  assert.equal(ok.json.retCode, 0);
  assert.equal(ok.json.retMsg, 'successSendResult[topic=em-async, messageId=id-1]');
  assert.equal(typeof ok.json.resTime, 'number');
  assert.equal((await code(104, msg('em-async', 'x', 'id-2'), { pid: 'abc' })).json.retCode, 6);
  assert.equal((await code(104, { ...msg('em-async', 'x', 'id-3'), producergroup: '' })).json.retCode, 7);
  assert.equal((await code(104, msg('', 'x', 'id-4'))).json.retCode, 6, 'no topic');
});

test('H9 104 with protocoltype cloudevents: the content is a CloudEvents JSON document; webhook push per H40', async () => {
  const s = await sink(() => ({ status: 200, body: '{"retCode":1}' }));
  try {
    await subscribe('em-ce', s.url, 'g-ce');
    const ce = { specversion: '1.0', id: 'ce-1', source: '/java', type: 'cloudevents', subject: 'em-ce', datacontenttype: 'application/json', data: { k: 'v' }, bizseqno: '123', uniqueid: '456' };
    const r = await code(104, { content: JSON.stringify(ce), producergroup: 'pg' }, { protocoltype: 'cloudevents' });
    assert.equal(r.json.retCode, 0, r.text);
    const [got] = await s.waitFor(1);
    assert.equal(got!.headers.code, '105');
    const form = new URLSearchParams(got!.body.toString('utf8'));
    const content = JSON.parse(form.get('content')!);
    assert.equal(content.id, 'ce-1');
    assert.deepEqual(content.data, { k: 'v' });
    assert.equal(form.get('bizseqno'), '123');
    assert.equal(form.get('uniqueId'), '456');
    assert.equal(form.get('topic'), 'em-ce');
    assert.equal(JSON.parse(form.get('extFields')!).producergroup, 'pg');
  } finally {
    await s.close();
  }
});

test('H42: a subscriber answering retCode 2 (RETRY) gets the event again; retCode 3 (FAIL) drops it', async () => {
  const s = await sink((_r, n) => ({ status: 200, body: n === 1 ? '{"retCode":2}' : '{"retCode":3}' }));
  try {
    await subscribe('em-retry', s.url, 'g-retry');
    assert.equal((await code(104, msg('em-retry', 'again', 'r-1'))).json.retCode, 0);
    const got = await s.waitFor(2);
    assert.equal(new URLSearchParams(got[1]!.body.toString()).get('content'), 'again');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.got.length, 2, 'FAIL is final');
  } finally {
    await s.close();
  }
});

test('H11 107 and H12 102 (batch, broken upstream) publish and answer retCode 0', async () => {
  const s = await sink();
  try {
    await subscribe('em-batch', s.url, 'g-batch');
    const v2 = await code(107, { topic: 'em-batch', msg: 'one', bizseqno: 'b-0', producergroup: 'pg', ttl: '3000' });
    assert.equal(v2.json.retCode, 0, v2.text);
    const contents = [1, 2, 3].map((i) => ({ bizSeqNo: `b-${i}`, topic: 'em-batch', msg: `m${i}`, tag: '', ttl: '3000' }));
    const b = await code(102, { batchId: 'batch-1', size: '3', producerGroup: 'pg', contents: JSON.stringify(contents) });
    assert.equal(b.json.retCode, 0, b.text);
    const got = await s.waitFor(4);
    assert.deepEqual(got.map((g) => new URLSearchParams(g.body.toString()).get('content')).sort(), ['m1', 'm2', 'm3', 'one']);
    const bad = await code(102, { batchId: 'x', producerGroup: 'pg', contents: '[{"topic":"em-batch"}]' });
    assert.equal(bad.json.retCode, 6, 'an event without bizSeqNo (its id) is refused, nothing published');
  } finally {
    await s.close();
  }
});

test('H10 101 request-reply answered through a SYNC webhook subscriber and H16 301 REPLY_MESSAGE (broken upstream)', async () => {
  const s = await sink((r) => {
    const form = new URLSearchParams(r.body.toString('utf8'));
    assert.equal(r.headers.code, '106');
    // The responder replies asynchronously with code 301, echoing extFields.
    void code(301, { bizseqno: 'rep-1', uniqueid: 'rep-1', content: `reply to ${form.get('content')}`, origtopic: 'em-rr', extFields: form.get('extFields')!, producergroup: 'pg' });
    return { status: 200, body: '{"retCode":0}' };
  });
  try {
    await subscribe('em-rr', s.url, 'g-rr', 'SYNC');
    const r = await code(101, msg('em-rr', 'ping', 'req-1'));
    assert.equal(r.json.retCode, 0, r.text);
    const reply = JSON.parse(r.json.retMsg);
    assert.equal(reply.topic, 'em-rr');
    assert.equal(reply.body, 'reply to ping');
    const timeout = await code(101, { ...msg('em-rr-nobody', 'ping', 'req-2'), ttl: '200' });
    assert.equal(timeout.json.retCode, 4);
  } finally {
    await s.close();
  }
});

test('H13–H15: subscribe validates the URL (7), heartbeat answers 0, unsubscribe stops pushes', async () => {
  const bad = await code(206, { topic: JSON.stringify([{ topic: 'x', mode: 'CLUSTERING', type: 'ASYNC' }]), url: 'ftp://nope', consumerGroup: 'g' });
  assert.equal(bad.json.retCode, 7);
  assert.match(bad.json.retMsg, /invalid URL: ftp:\/\/nope/);
  const s = await sink();
  try {
    await subscribe('em-unsub', s.url, 'g-unsub');
    const hb = await code(203, { clientType: 'SUB', consumerGroup: 'g-unsub', heartbeatEntities: JSON.stringify([{ topic: 'em-unsub', url: s.url, serviceId: '1', instanceId: 'i' }]) });
    assert.equal(hb.json.retCode, 0, hb.text);
    const un = await code(207, { topic: JSON.stringify(['em-unsub']), url: s.url, consumerGroup: 'g-unsub' });
    assert.equal(un.json.retCode, 0, un.text);
    await code(104, msg('em-unsub', 'after', 'u-1'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.got.length, 0);
  } finally {
    await s.close();
  }
});

test('H32–H34, H37: path endpoints publish a wrapped HTTP request, subscribe/unsubscribe, create topics, query', async () => {
  const s = await sink();
  try {
    const sub = await send(port(), 'POST', '/eventmesh/subscribe/local', { 'content-type': 'application/json' },
      JSON.stringify({ url: s.url, consumerGroup: 'g-path', topic: [{ topic: 'PATH-TOPIC', mode: 'CLUSTERING', type: 'ASYNC' }] }));
    assert.deepEqual(sub.json, { retCode: 0, retMsg: 'success' });
    const pub = await send(port(), 'POST', '/eventmesh/publish/PATH-TOPIC', { 'content-type': 'application/json' }, '{"k":"v"}');
    assert.equal(pub.json.retCode, 0, pub.text);
    assert.match(pub.json.retMsg, /^successSendResult\[topic=PATH-TOPIC, messageId=/);
    const [got] = await s.waitFor(1);
    const content = JSON.parse(new URLSearchParams(got!.body.toString()).get('content')!);
    assert.deepEqual(content.data.body, { k: 'v' });
    assert.equal(content.data.method, 'POST');
    const q = await send(port(), 'GET', '/eventmesh/subscrition/query', {});
    assert.ok(q.json.localTopicSet.includes('PATH-TOPIC'));
    const un = await send(port(), 'POST', '/eventmesh/unsubscribe/local', { 'content-type': 'application/json' }, JSON.stringify({ url: s.url, consumerGroup: 'g-path', topic: ['PATH-TOPIC'] }));
    assert.equal(un.json.retCode, 0);
    const tc = await send(port(), 'POST', '/eventmesh/topic/create', { 'content-type': 'application/json' }, '{"topic":"made-a;made-b"}');
    assert.deepEqual(tc.json, { retCode: 0, retMessage: 'success' });
    assert.equal((await send(port(), 'POST', '/eventmesh/subscribe/local', { 'content-type': 'application/json' }, '{"url":"x"}')).json.retCode, 7);
  } finally {
    await s.close();
  }
});
