// CloudEvents HTTP binding on the HTTP port (issue 5 item 3; spec H45: evmesh adds the standard
// binding): the codec, then the `cloudevents` SDK's emitter publishing to evmesh unmodified and
// its HTTP receiver reading evmesh's webhook pushes.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { CloudEvent, emitterFor, httpTransport, HTTP, Mode } from 'cloudevents';
import type { RunningBroker } from '../../src/broker.js';
import { encodeHeaderValue, modeOf, parseCloudEvents, toBinary } from '../../src/protocol/http/cloudevents-http.js';
import { httpBroker, send, sink } from './http-helpers.js';

/** Headers as the codec takes them: name, value, name, value… */
const list = (o: Record<string, string>): string[] => Object.entries(o).flat();

test('codec: the mode comes from Content-Type, else from ce-* headers (binding §3)', () => {
  assert.equal(modeOf(list({ 'content-type': 'application/cloudevents+json; charset=utf-8' })), 'structured');
  assert.equal(modeOf(list({ 'content-type': 'application/cloudevents-batch+json' })), 'batch');
  assert.equal(modeOf(list({ 'content-type': 'application/octet-stream', 'ce-specversion': '1.0' })), 'binary');
  assert.equal(modeOf(list({ 'content-type': 'application/json' })), undefined);
});

test('codec: binary mode keeps the body bytes exactly and percent-decodes header values (§3.1.3.2)', () => {
  const body = Buffer.from([0, 255, 1, 128, 10]);
  const [ev] = parseCloudEvents('binary', list({ 'content-type': 'application/octet-stream', 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '/s', 'ce-type': 't', 'ce-note': 'caf%C3%A9%20%22x%22' }), body);
  assert.deepEqual(Buffer.from(ev!.data!), body);
  assert.equal(ev!.attributes.note, 'café "x"');
  assert.equal(ev!.attributes.datacontenttype, 'application/octet-stream');
  assert.equal(encodeHeaderValue('café "x" 100%'), 'caf%C3%A9%20%22x%22%20100%25');
  const out = toBinary(ev!);
  assert.equal(out.headers['ce-note'], 'caf%C3%A9%20%22x%22');
  assert.equal(out.headers['content-type'], 'application/octet-stream');
});

test('codec: a binary request without ce-specversion is a bad event', () => {
  assert.throws(() => parseCloudEvents('binary', list({ 'ce-id': 'x' }), Buffer.alloc(0)), { code: 'EVM_BAD_EVENT' });
});

let broker: RunningBroker;
before(async () => { broker = await httpBroker({ 'topics.defaultPartitions': 2 }); });
after(async () => { await broker.stop(); });

async function readAll(topic: string, n: number): Promise<any[]> {
  const events: any[] = [];
  for (let i = 0; i < 20 && events.length < n; i++) {
    const r = await send(broker.ports.http!, 'GET', `/topics/${topic}/events?group=reader&from=earliest&max=100&waitMs=500`, {});
    assert.equal(r.status, 200, r.text);
    events.push(...r.json.events);
  }
  return events;
}

test('the cloudevents SDK emitter publishes to evmesh unmodified, binary and structured mode', async () => {
  const url = `http://127.0.0.1:${broker.ports.http}/topics/sdk-emit/events`;
  const emit = emitterFor(httpTransport(url), { mode: Mode.BINARY });
  const emitStructured = emitterFor(httpTransport(url), { mode: Mode.STRUCTURED });
  const r1 = await emit(new CloudEvent({ id: 'b1', source: '/sdk', type: 'sdk.binary', data: { n: 1 }, myext: 'v1' })) as { body: string };
  const r2 = await emitStructured(new CloudEvent({ id: 's1', source: '/sdk', type: 'sdk.structured', datacontenttype: 'text/plain', data: 'plain text' })) as { body: string };
  assert.equal(JSON.parse(r1.body).topic, 'sdk-emit');
  assert.equal(JSON.parse(r2.body).topic, 'sdk-emit');
  const events = (await readAll('sdk-emit', 2)).map((e) => e.event).sort((a, b) => a.id.localeCompare(b.id));
  assert.deepEqual(events.map((e) => [e.id, e.type, e.data]), [['b1', 'sdk.binary', { n: 1 }], ['s1', 'sdk.structured', 'plain text']]);
  assert.equal(events[0].myext, 'v1');
});

test('batch mode publishes every event of the array in order (binding §3.3)', async () => {
  const batch = [1, 2, 3].map((i) => ({ specversion: '1.0', id: `k${i}`, source: '/b', type: 'batch', partitionkey: 'same', data: { i } }));
  const r = await send(broker.ports.http!, 'POST', '/topics/batch-topic/events', { 'content-type': 'application/cloudevents-batch+json' }, JSON.stringify(batch));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.results.length, 3);
  const offsets = r.json.results.map((x: { offset: number }) => x.offset);
  assert.deepEqual(offsets, [offsets[0], offsets[0] + 1, offsets[0] + 2], 'same key → same partition, consecutive offsets');
  const ids = (await readAll('batch-topic', 3)).map((e) => e.event.id);
  assert.deepEqual(ids, ['k1', 'k2', 'k3']);
});

for (const format of ['binary', 'structured'] as const) {
  test(`webhook push in ${format} mode is read by the cloudevents SDK's HTTP receiver, data bytes intact`, async () => {
    const s = await sink(() => ({ status: 204 }));
    try {
      const topic = `push-${format}`;
      const sub = await send(broker.ports.http!, 'POST', '/subscriptions', { 'content-type': 'application/json' }, JSON.stringify({ topic, url: s.url, format }));
      assert.equal(sub.status, 201, sub.text);
      const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x7f]);
      const pub = await send(broker.ports.http!, 'POST', `/topics/${topic}/events`, {
        'content-type': 'application/octet-stream', 'ce-specversion': '1.0', 'ce-id': 'bin-1', 'ce-source': '/producer', 'ce-type': 'bytes', 'ce-note': 'hello',
      }, bytes);
      assert.equal(pub.status, 200, pub.text);
      const [got] = await s.waitFor(1);
      const headers = Object.fromEntries(Object.entries(got!.headers).map(([k, v]) => [k, String(v)]));
      const ev = HTTP.toEvent({ headers, body: format === 'binary' ? got!.body : got!.body.toString('utf8') }) as CloudEvent<Buffer>;
      assert.equal(ev.id, 'bin-1');
      assert.equal(ev.type, 'bytes');
      assert.equal(ev.note, 'hello');
      assert.equal(ev.datacontenttype, 'application/octet-stream');
      const data = format === 'binary' ? got!.body : Buffer.from(ev.data_base64 ?? '', 'base64');
      assert.deepEqual(data, bytes);
      const del = await send(broker.ports.http!, 'DELETE', `/subscriptions/${sub.json.id}`, {});
      assert.equal(del.status, 200, del.text);
    } finally {
      await s.close();
    }
  });
}
