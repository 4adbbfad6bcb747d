// EventMesh TCP codec (src/protocol/tcp/{frame,header,bodies,messages}.ts) against the worked
// examples T81–T84 (test/fixtures/eventmesh-tcp/*.hex): parse, encode, round trip, fed one
// byte at a time; framing errors (T5); header quirks (T8, T91); typed bodies (T19–T23);
// message bodies ↔ MeshEvent (T22, T24, T42, T52).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvmeshError } from '../../src/errors.js';
import { COMMANDS, commandOf, replyCommand } from '../../src/protocol/tcp/commands.js';
import { encodeFrame, FrameDecoder, FrameWriter, type Frame } from '../../src/protocol/tcp/frame.js';
import { headerJson, parseHeader } from '../../src/protocol/tcp/header.js';
import { HeaderReader, HeaderTemplate } from '../../src/protocol/tcp/header-template.js';
import { parseRedirectInfo, parseSubscription, parseUserAgent, subscriptionJson, userAgentJson } from '../../src/protocol/tcp/bodies.js';
import { cloudEventJson, cloudEventOf, decodeMessage, encodeMessage, eventMeshMessageJson } from '../../src/protocol/tcp/messages.js';
import { allFixtures, fixture } from '../fixtures/eventmesh-tcp/load.js';

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));

function decodeAll(chunks: Iterable<Uint8Array>, opts = {}): Frame[] {
  const d = new FrameDecoder(opts);
  const frames: Frame[] = [];
  for (const c of chunks) {
    d.push(c);
    for (let f = d.next(); f; f = d.next()) frames.push(f);
  }
  return frames;
}

function* bytewise(b: Uint8Array): Iterable<Uint8Array> {
  for (let i = 0; i < b.length; i++) yield b.subarray(i, i + 1);
}

function decodeError(bytes: Uint8Array, opts = {}): EvmeshError {
  try {
    decodeAll([bytes], opts);
  } catch (err) {
    assert.ok(err instanceof EvmeshError, `EvmeshError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a decode error');
}

function frameOf(header: object | string, body?: string, lengthDelta = 0): Buffer {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const b = Buffer.from(body ?? '');
  const p = Buffer.alloc(21);
  p.write('EventMesh0000', 0, 'latin1');
  p.writeUInt32BE(13 + h.length + b.length + lengthDelta, 13);
  p.writeUInt32BE(h.length, 17);
  return Buffer.concat([p, h, b]);
}

test('T81 HELLO_REQUEST fixture: parse (header T7, UserAgent body T20)', () => {
  const [f] = decodeAll([fixture('t81-hello-request')]);
  assert.deepEqual(f!.header, { cmd: 'HELLO_REQUEST', code: 0, desc: undefined, seq: '4271830561', properties: {} });
  const ua = parseUserAgent(f!.body)!;
  assert.deepEqual(ua, {
    env: 'test', subsystem: '5023', path: '/data/app', host: 'localhost', version: '2.0.11', username: 'PU4283',
    password: 'secret', idc: 'FT', group: 'EventmeshTestGroup', purpose: 'pub', pid: 32893, port: 8362, unack: 0,
  });
});

test('T81/T82/T83: encoding the parsed values reproduces the fixture bytes exactly (Java key order, T7, T20)', () => {
  const hello = fixture('t81-hello-request');
  const [f] = decodeAll([hello]);
  assert.deepEqual(encodeFrame(f!.header!, userAgentJson(parseUserAgent(f!.body)!)), hello);
  const resp = fixture('t82-hello-response');
  assert.deepEqual(encodeFrame({ cmd: 'HELLO_RESPONSE', code: 0, desc: 'success', seq: '4271830561', properties: {} }), resp);
  const hb = fixture('t83-heartbeat-request');
  assert.deepEqual(encodeFrame({ cmd: 'HEARTBEAT_REQUEST', code: 0, seq: '1056427380', properties: {} }), hb);
});

test('T84 ASYNC_MESSAGE_TO_SERVER fixture: CloudEvents body → topic = subject (T42), header properties become extensions (T10)', () => {
  const [f] = decodeAll([fixture('t84-async-message-cloudevent')]);
  const h = f!.header!;
  assert.equal(h.cmd, 'ASYNC_MESSAGE_TO_SERVER');
  assert.equal(h.seq, '7315082246');
  assert.deepEqual(h.properties, { protocolversion: '1.0', protocoldesc: 'tcp', protocoltype: 'cloudevents' });
  const { topic, event } = decodeMessage(h.properties, h.seq, f!.body);
  assert.equal(topic, 'TEST-TOPIC-TCP-ASYNC');
  assert.deepEqual(event.attributes, {
    specversion: '1.0', id: '5f3c2b0e-8a6d-4c61-9a55-0d2f1e7b9c11', source: '/', type: 'cloudevents',
    datacontenttype: 'application/cloudevents+json', subject: 'TEST-TOPIC-TCP-ASYNC', ttl: '30000',
    protocolversion: '1.0', protocoldesc: 'tcp', protocoltype: 'cloudevents',
  });
  assert.equal(text(event.data), '{"content":"testAsyncMessage"}');
  // Pushed back (T52): CloudEvents JSON with the data verbatim and only protocoltype in the header.
  const push = encodeMessage(topic, event);
  assert.deepEqual(push.properties, { protocoltype: 'cloudevents' });
  const json = JSON.parse(push.body.join(''));
  assert.deepEqual(json.data, { content: 'testAsyncMessage' });
  assert.equal(json.ttl, '30000');
});

test('round trip: every fixture decodes and re-encodes to the same bytes (T2, T3, T7)', () => {
  for (const [name, bytes] of allFixtures()) {
    const [f, ...rest] = decodeAll([bytes]);
    assert.equal(rest.length, 0, name);
    assert.deepEqual(encodeFrame(f!.header!, f!.body), bytes, name);
  }
});

test('incremental decoder: one byte at a time, and all fixtures back to back in odd chunks, give the same frames', () => {
  const fixtures = [...allFixtures().values()];
  const whole = fixtures.map((b) => decodeAll([b])[0]!);
  fixtures.forEach((b, i) => assert.deepEqual(decodeAll(bytewise(b)), [whole[i]]));
  const stream = Buffer.concat(fixtures);
  for (const size of [1, 2, 3, 7, 20, 21, 22, 64, 333, 1000]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
    assert.deepEqual(decodeAll(chunks), whole, `chunk size ${size}`);
  }
});

test('T2/T3 encoding: a body in text parts, and FrameWriter frames back to back, give the same bytes as encodeFrame of the whole', () => {
  const h = { cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, seq: '7', properties: Object.freeze({ protocoltype: 'cloudevents' }) } as const;
  const parts = ['{"id":"é"', ',', '"data":"x"}'];
  const whole = encodeFrame(h, parts.join(''));
  assert.deepEqual(encodeFrame(h, parts), whole);
  assert.equal(text(decodeAll([whole])[0]!.body), '{"id":"é","data":"x"}');
  const w = new FrameWriter(false);
  w.add(h, parts, Infinity);
  w.add({ cmd: 'HEARTBEAT_RESPONSE', code: 0, desc: 'success', seq: '8', properties: {} }, undefined, Infinity);
  assert.deepEqual(w.take(), Buffer.concat([whole, encodeFrame({ cmd: 'HEARTBEAT_RESPONSE', code: 0, desc: 'success', seq: '8', properties: {} })]));
  assert.throws(() => w.add(h, parts, whole.length - 1), (e: EvmeshError) => e.code === 'EVM_TOO_LARGE');
  assert.equal(w.bytes, 0, 'a refused frame adds nothing');
  const big = ['{"id":"', 'é'.repeat(300), '"}'];
  const bigFrame = encodeFrame(h, big.join(''));
  assert.throws(() => w.add(h, big, bigFrame.length - 1), (e: EvmeshError) => e.code === 'EVM_TOO_LARGE', 'measured exactly near the limit');
  assert.equal(w.add(h, big, bigFrame.length), true, 'a frame exactly at the limit is taken');
  assert.deepEqual(w.take(), bigFrame);
});

test('T7/T9 header templates: addSeq writes the bytes add() writes for that header and seq, plain or escaped', () => {
  const headers = [
    { cmd: 'ASYNC_MESSAGE_TO_SERVER_ACK', code: 0, desc: 'success', properties: Object.freeze({}) },
    { cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, properties: Object.freeze({ protocoltype: 'cloudevents', protocolversion: '1.0', protocoldesc: 'tcp' }) },
    { cmd: 'LISTEN_RESPONSE', code: 1, desc: 'a "seq":"" in desc', properties: Object.freeze({ seq: '' }) },
  ] as const;
  for (const h of headers) {
    const t = new HeaderTemplate(h);
    for (const seq of ['4271830561', '', '1"2', 'a\\b', 'é', '\u0001']) {
      const viaTemplate = new FrameWriter(false), viaJson = new FrameWriter(false);
      assert.equal(viaTemplate.addSeq(t, seq, '{"x":1}', Infinity), true, 'the first frame since take()');
      viaJson.add({ ...h, seq }, '{"x":1}', Infinity);
      assert.deepEqual(viaTemplate.take(), viaJson.take(), `${h.cmd} seq ${JSON.stringify(seq)}`);
    }
  }
});

test('T7/T9 HeaderReader: a header that repeats the last one but for a plain seq is read without JSON.parse; anything else as parseHeader reads it', () => {
  const reader = new HeaderReader();
  const read = (json: string) => { const b = Buffer.from(`xx${json}yy`); return reader.read(b, 2, b.length - 2); };
  const publish = (seq: string) => `{"cmd":"ASYNC_MESSAGE_TO_SERVER","code":0,"seq":"${seq}","properties":{"protocoltype":"cloudevents"},"command":"ASYNC_MESSAGE_TO_SERVER"}`;
  const first = read(publish('1'));
  assert.deepEqual(first, parseHeader(Buffer.from(publish('1'))));
  const second = read(publish('1234567890'));
  assert.deepEqual(second, { ...first, seq: '1234567890' });
  assert.equal(second.properties, first.properties, 'from the template: its (frozen) properties');
  assert.ok(Object.isFrozen(second.properties));
  // Not plain (escape, quote, non-ASCII): parsed as JSON, same result as parseHeader.
  for (const seq of ['a\\"b', 'é', '\\u0041']) assert.deepEqual(read(publish(seq)), parseHeader(Buffer.from(publish(seq))), seq);
  assert.throws(() => read(publish('1"')), (e: EvmeshError) => e.code === 'EVM_BAD_FRAME', 'a stray quote is still a bad header');
  // A header with a nested "seq" never becomes a template: the nested one must not be swapped.
  const nested = (seq: string) => `{"cmd":"HEARTBEAT_REQUEST","seq":"5","properties":{"seq":"${seq}"}}`;
  read(nested('5'));
  assert.deepEqual(read(nested('6')), parseHeader(Buffer.from(nested('6'))));
  assert.equal(read(nested('6')).seq, '5');
});

test('T4 legacy length (≤ v1.8, Go SDK): decoded and encoded when legacyLength is set', () => {
  const v19 = fixture('t81-hello-request');
  const legacy = Buffer.from(v19);
  legacy.writeUInt32BE(321, 13); // spec T81: a ≤v1.8 sender puts 321 = 0x141
  const [f] = decodeAll(bytewise(legacy), { legacyLength: true });
  assert.deepEqual(f, decodeAll([v19])[0]);
  assert.deepEqual(encodeFrame(f!.header!, f!.body, { legacyLength: true }), legacy);
  // Read as v1.9+, the legacy frame's body is 5 bytes short and the next frame misaligned (T4).
  const d = new FrameDecoder();
  d.push(Buffer.concat([legacy, fixture('t83-heartbeat-request')]));
  assert.equal(d.next()!.body!.length, 215);
  assert.throws(() => d.next(), (e: EvmeshError) => e.code === 'EVM_BAD_FRAME' && /magic/.test(e.message));
});

test('T5: wrong magic or version fails on the first wrong byte (EVM_BAD_FRAME)', () => {
  assert.equal(decodeError(Buffer.from('X')).code, 'EVM_BAD_FRAME');
  assert.match(decodeError(Buffer.from('EventMess')).message, /magic/);
  assert.match(decodeError(Buffer.from('EventMesh0001')).message, /version/);
  const bad = Buffer.from(fixture('t83-heartbeat-request'));
  bad[0] = 0x65;
  assert.equal(decodeError(bad).code, 'EVM_BAD_FRAME');
});

test('T5/T71: a frame above maxFrameBytes is refused from its prefix alone (EVM_TOO_LARGE), default 4 MiB', () => {
  const p = Buffer.alloc(21);
  p.write('EventMesh0000', 0, 'latin1');
  p.writeUInt32BE(4 * 1024 * 1024 - 8 + 1, 13); // length + 8 = 4 MiB + 1
  p.writeUInt32BE(10, 17);
  assert.equal(decodeError(p).code, 'EVM_TOO_LARGE');
  p.writeUInt32BE(4 * 1024 * 1024 - 8, 13); // exactly 4 MiB: accepted, waits for bytes
  assert.deepEqual(decodeAll([p]), []);
  assert.equal(decodeError(fixture('t84-async-message-cloudevent'), { maxFrameBytes: 439 }).code, 'EVM_TOO_LARGE');
  assert.equal(decodeError(fixture('t84-async-message-cloudevent'), { maxHeaderBytes: 185 }).code, 'EVM_TOO_LARGE');
  assert.throws(() => encodeFrame({ cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, properties: {} }, 'x'.repeat(2000), { maxFrameBytes: 1024 }),
    (e: EvmeshError) => e.code === 'EVM_TOO_LARGE');
});

test('T5: bad lengths (below the fixed part, headerLength beyond the frame) are EVM_BAD_FRAME', () => {
  const short = frameOf({ cmd: 'HEARTBEAT_REQUEST' });
  short.writeUInt32BE(12, 13);
  assert.match(decodeError(short).message, /below the minimum/);
  const f = frameOf({ cmd: 'HEARTBEAT_REQUEST' });
  f.writeUInt32BE(f.readUInt32BE(13) - 12 + 1, 17);
  assert.match(decodeError(f).message, /headerLength/);
});

test('T5: a malformed header (not JSON, not an object, unknown or lower-case command) is EVM_BAD_FRAME; the decoder stays failed', () => {
  for (const h of ['{"cmd":', '[1]', '{"cmd":"hello_request"}', '{"cmd":"NOPE"}', '{"cmd":99}', '{"cmd":"HELLO_REQUEST","properties":[]}', '{"cmd":"HELLO_REQUEST","code":"x"}']) {
    const d = new FrameDecoder();
    d.push(frameOf(h));
    assert.throws(() => d.next(), (e: EvmeshError) => e.code === 'EVM_BAD_FRAME', h);
    d.push(fixture('t83-heartbeat-request'));
    assert.throws(() => d.next(), (e: EvmeshError) => e.code === 'EVM_BAD_FRAME', `${h}: stays failed`);
  }
});

test('T8/T91: numeric cmd is the ordinal, `command` is the fallback, a header without either has no command; unknown keys ignored', () => {
  assert.equal(parseHeader(Buffer.from('{"cmd":2}')).cmd, 'HELLO_REQUEST');
  assert.equal(parseHeader(Buffer.from('{"command":"LISTEN_REQUEST","extra":{"a":1}}')).cmd, 'LISTEN_REQUEST');
  assert.equal(parseHeader(Buffer.from('{"cmd":"HEARTBEAT_REQUEST","command":"HELLO_REQUEST"}')).cmd, 'HEARTBEAT_REQUEST');
  assert.equal(parseHeader(Buffer.from('{"code":0,"seq":"1"}')).cmd, undefined);
  assert.equal(parseHeader(Buffer.from('{"cmd":"HELLO_REQUEST","seq":12}')).seq, '12');
  const [f] = decodeAll([frameOf('')]);
  assert.equal(f!.header, undefined, 'headerLength 0 → no header (T5)');
  assert.equal(f!.body, undefined);
  assert.equal(COMMANDS.length, 37);
  assert.equal(commandOf(36), 'RECOMMEND_RESPONSE');
  assert.equal(replyCommand('REQUEST_TO_SERVER'), 'RESPONSE_TO_CLIENT');
  assert.equal(replyCommand('REGISTER_REQUEST'), 'REGISTER_REQUEST');
  assert.equal(headerJson({ cmd: 'LISTEN_RESPONSE', code: 1, desc: 'a "b"', properties: { k: 'v' } }),
    '{"cmd":"LISTEN_RESPONSE","code":1,"desc":"a \\"b\\"","properties":{"k":"v"},"command":"LISTEN_RESPONSE"}');
});

test('T19–T23 typed bodies: UserAgent, Subscription (exact upper-case enum names), RedirectInfo', () => {
  assert.deepEqual(parseSubscription(Buffer.from('{"topicList":[{"topic":"T","mode":"BROADCASTING","type":"SYNC"}]}')),
    [{ topic: 'T', mode: 'BROADCASTING', type: 'SYNC' }]);
  assert.equal(subscriptionJson([{ topic: 'T', mode: 'CLUSTERING', type: 'ASYNC' }]), '{"topicList":[{"topic":"T","mode":"CLUSTERING","type":"ASYNC"}]}');
  assert.throws(() => parseSubscription(Buffer.from('{"topicList":[{"topic":"T","mode":"clustering"}]}')), (e: EvmeshError) => e.code === 'EVM_BAD_FRAME');
  assert.throws(() => parseSubscription(Buffer.from('{"topicList":3}')), (e: EvmeshError) => e.code === 'EVM_BAD_FRAME');
  assert.throws(() => parseUserAgent(Buffer.from('{"pid":"abc"}')), (e: EvmeshError) => e.code === 'EVM_BAD_FRAME');
  assert.throws(() => parseUserAgent(Buffer.from('nope')), (e: EvmeshError) => e.code === 'EVM_BAD_FRAME');
  assert.equal(parseUserAgent(undefined), undefined);
  assert.deepEqual(parseRedirectInfo(Buffer.from('{"ip":"10.0.0.2","port":10000}')), { ip: '10.0.0.2', port: 10000 });
});

test('T22 EventMeshMessage ↔ MeshEvent: id = seq, source "/", type eventmeshmessage, subject = topic, properties ↔ extensions', () => {
  const body = Buffer.from(JSON.stringify({ topic: 'T1', properties: { k1: 'v1', n: 5 }, headers: { datacontenttype: 'text/plain' }, body: 'héllo' }));
  const props = { protocoltype: 'eventmeshmessage', protocolversion: '1.0', protocoldesc: 'tcp' };
  const { topic, event } = decodeMessage(props, '1234567890', body);
  assert.equal(topic, 'T1');
  assert.deepEqual(event.attributes, {
    specversion: '1.0', id: '1234567890', source: '/', type: 'eventmeshmessage', subject: 'T1', datacontenttype: 'text/plain',
    k1: 'v1', n: '5', protocoltype: 'eventmeshmessage', protocolversion: '1.0', protocoldesc: 'tcp',
  });
  assert.equal(text(event.data), 'héllo');
  const push = encodeMessage('T1', event);
  assert.deepEqual(push.properties, { protocoltype: 'eventmeshmessage' });
  assert.deepEqual(JSON.parse(push.body.join('')), {
    topic: 'T1', headers: { datacontenttype: 'text/plain' }, body: 'héllo',
    properties: { k1: 'v1', n: '5', protocoltype: 'eventmeshmessage', protocolversion: '1.0', protocoldesc: 'tcp' },
  });
  assert.throws(() => decodeMessage(props, undefined, body), (e: EvmeshError) => e.code === 'EVM_BAD_REQUEST', 'seq required');
  assert.throws(() => decodeMessage(props, '1', Buffer.from('{"topic":"T"}')), (e: EvmeshError) => e.code === 'EVM_BAD_EVENT', 'body required');
  assert.throws(() => decodeMessage(props, '1', Buffer.from('{"body":"x"}')), (e: EvmeshError) => e.code === 'EVM_BAD_REQUEST', 'topic required');
});

test('T22/T24: protocoltype is required; openmessage and unknown adaptors are unsupported; bodies must parse', () => {
  const ce = Buffer.from('{"specversion":"1.0","id":"1","source":"/","type":"t","subject":"T"}');
  assert.throws(() => decodeMessage({}, '1', ce), (e: EvmeshError) => e.code === 'EVM_BAD_REQUEST');
  assert.throws(() => decodeMessage({ protocoltype: 'openmessage' }, '1', ce), (e: EvmeshError) => e.code === 'EVM_UNSUPPORTED');
  assert.throws(() => decodeMessage({ protocoltype: 'cloudevents' }, '1', Buffer.from('{')), (e: EvmeshError) => e.code === 'EVM_BAD_EVENT');
  assert.throws(() => decodeMessage({ protocoltype: 'cloudevents' }, '1', undefined), (e: EvmeshError) => e.code === 'EVM_BAD_REQUEST');
  assert.throws(() => decodeMessage({ protocoltype: 'cloudevents' }, '1', Buffer.from('{"specversion":"1.0","id":"1","source":"/","type":"t"}')),
    (e: EvmeshError) => e.code === 'EVM_BAD_REQUEST' && /subject/.test(e.message));
});

test('T22 CloudEvents bodies ending with data_base64 (read without JSON.parse of the base64) decode as JSON.parse reads them', () => {
  const head = '{"specversion":"1.0","id":"1","source":"/","type":"t","subject":"T"';
  const ok = (b64: string) => cloudEventOf(Buffer.from(`${head},"data_base64":"${b64}"}`));
  for (const [b64, hex] of [['', ''], ['QQ==', '41'], ['QUI=', '4142'], ['QUJD', '414243'], ['-_-_', 'fbffbf']]) {
    const ev = ok(b64!);
    assert.deepEqual(ev.attributes, { specversion: '1.0', id: '1', source: '/', type: 't', subject: 'T' });
    assert.equal(Buffer.from(ev.data!).toString('hex'), hex, b64);
  }
  const notJson = (e: EvmeshError) => e.code === 'EVM_BAD_EVENT' && /not UTF-8 JSON/.test(e.message);
  assert.throws(() => ok('QU\nJD'), notJson, 'a raw control character in the string: JSON.parse refuses it');
  assert.throws(() => cloudEventOf(Buffer.from('{,"data_base64":"QUJD"}')), notJson, 'nothing before the member');
  assert.throws(() => cloudEventOf(Buffer.from(`${head},"data":1,"data_base64":"QUJD"}`)), (e: EvmeshError) => /mutually exclusive/.test(e.message));
  // Escapes, spaces and a duplicate member are read as JSON.parse reads them (the whole body).
  assert.equal(Buffer.from(ok('QU\\u004aD').data!).toString(), 'ABC');
  assert.equal(Buffer.from(ok('QU JD').data!).toString(), 'ABC');
  assert.equal(Buffer.from(cloudEventOf(Buffer.from(`${head},"data_base64":"QQ==","data_base64":"QUJD"}`)).data!).toString(), 'ABC');
});

test('T52/T53: pushes re-encode any stored event as CloudEvents JSON, data exact: JSON verbatim, text as string, binary as data_base64', () => {
  const base = { specversion: '1.0', id: 'x', source: '/s', type: 't', n: 7, b: true };
  const json = cloudEventJson({ attributes: { ...base, datacontenttype: 'application/json' }, data: Buffer.from('{ "a" : 1.50 }') });
  assert.ok(json.endsWith(',"data":{ "a" : 1.50 }}'), json);
  assert.deepEqual(JSON.parse(json).n, 7);
  assert.equal(JSON.parse(cloudEventJson({ attributes: { ...base, datacontenttype: 'text/plain' }, data: Buffer.from('hi') })).data, 'hi');
  const bin = Buffer.from([0, 255, 1]);
  const b64 = JSON.parse(cloudEventJson({ attributes: { ...base, datacontenttype: 'application/octet-stream' }, data: bin }));
  assert.deepEqual(Buffer.from(b64.data_base64, 'base64'), bin);
  assert.equal(cloudEventJson({ attributes: base }), JSON.stringify(base));
  // Round trip through the TCP message codec keeps attributes (with their JSON types) and data bytes.
  const ev = { attributes: { ...base, subject: 'T', datacontenttype: 'application/octet-stream' }, data: bin };
  const back = decodeMessage({ protocoltype: 'cloudevents' }, '1', Buffer.from(encodeMessage('T', ev).body.join(''))).event;
  assert.deepEqual(back.attributes, { ...ev.attributes, protocoltype: 'cloudevents' });
  assert.deepEqual(Buffer.from(back.data!), bin);
  assert.equal(JSON.parse(eventMeshMessageJson('T', { attributes: base })).topic, 'T');
});
