// Fuzz of the HTTP port's pure codecs (issue 5; DESIGN §4 "fuzz codecs"): the CloudEvents HTTP
// binding in its three modes (structured, binary, batch) and the EventMesh HTTP message fields
// (H9), fed mutated valid inputs and random bytes. Bad input may only raise an EvmeshError (which
// the port answers as `{code, message}` / retCode), never another exception; events that do
// decode keep their data bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvmeshError } from '../../src/errors.js';
import { BATCH_TYPE, parseCloudEvents, STRUCTURED_TYPE, type CeMode } from '../../src/protocol/http/cloudevents-http.js';
import { messageEvent, type MessageFields } from '../../src/protocol/http/eventmesh-events.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 0x1_0000_0000; };
}

/** One random edit of `bytes`: flip, insert, delete, truncate or splice in a JSON-ish token. */
function mutate(bytes: Uint8Array, r: () => number): Uint8Array {
  const b = Buffer.from(bytes);
  const at = Math.floor(r() * (b.length + 1));
  const tokens = ['{', '}', '[', ']', '"', ',', ':', 'null', '"data_base64":', '"data":', '\\u0000', '%', '%zz', '\u00ff', '"specversion":"1.0"', '1e999'];
  switch (Math.floor(r() * 5)) {
    case 0: if (b.length > 0) b[Math.min(at, b.length - 1)]! ^= 1 << Math.floor(r() * 8); return b;
    case 1: return Buffer.concat([b.subarray(0, at), Buffer.from(tokens[Math.floor(r() * tokens.length)]!), b.subarray(at)]);
    case 2: return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(r() * 8)))]);
    case 3: return b.subarray(0, at);
    default: return Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
  }
}

const EVENT = { specversion: '1.0', id: 'f-1', source: '/fuzz', type: 'fuzz.t', datacontenttype: 'application/json', data: { n: 1, s: 'x' } };
const SEEDS: Record<CeMode, Uint8Array> = {
  structured: Buffer.from(JSON.stringify(EVENT)),
  batch: Buffer.from(JSON.stringify([EVENT, { ...EVENT, id: 'f-2', data_base64: 'AAEC', data: undefined, datacontenttype: 'application/octet-stream' }])),
  binary: Buffer.from([0, 1, 2, 0xff]),
};
const HEADERS: Record<CeMode, Record<string, string>> = {
  structured: { 'content-type': STRUCTURED_TYPE },
  batch: { 'content-type': BATCH_TYPE },
  binary: { 'content-type': 'application/octet-stream', 'ce-specversion': '1.0', 'ce-id': 'b-1', 'ce-source': '/fuzz', 'ce-type': 't' },
};

function onlyEvmeshErrors(fn: () => void, counts: Map<string, number>): void {
  try {
    fn();
    counts.set('ok', (counts.get('ok') ?? 0) + 1);
  } catch (err) {
    assert.ok(err instanceof EvmeshError, `not an EvmeshError: ${String(err)}`);
    counts.set(err.code, (counts.get(err.code) ?? 0) + 1);
  }
}

test('fuzz: 30k mutated CloudEvents HTTP bodies and headers (structured, batch, binary) raise only EvmeshErrors', () => {
  const r = rng(11);
  const counts = new Map<string, number>();
  for (let i = 0; i < 30_000; i++) {
    const mode = (['structured', 'batch', 'binary'] as const)[i % 3]!;
    let body = SEEDS[mode];
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) body = mutate(body, r);
    const headers = { ...HEADERS[mode] };
    if (mode === 'binary' && r() < 0.5) {
      const names = Object.keys(headers);
      const name = names[Math.floor(r() * names.length)]!;
      headers[name] = Buffer.from(mutate(Buffer.from(headers[name]!), r)).toString('latin1');
      if (r() < 0.2) delete headers[name];
    }
    onlyEvmeshErrors(() => {
      const events = parseCloudEvents(mode, Object.entries(headers).flat(), body);
      if (mode === 'binary' && events[0]!.data !== undefined) assert.deepEqual(Buffer.from(events[0]!.data), Buffer.from(body), 'binary mode keeps the body bytes exactly');
    }, counts);
  }
  assert.ok((counts.get('ok') ?? 0) > 0, 'some mutated inputs still decode');
  assert.ok(counts.size > 1, `both outcomes occur: ${JSON.stringify([...counts])}`);
});

test('fuzz: 20k mutated EventMesh HTTP message fields (H9, both protocol types) raise only EvmeshErrors', () => {
  const r = rng(23);
  const counts = new Map<string, number>();
  const base: MessageFields = {
    topic: 'fuzz-topic', content: JSON.stringify(EVENT), bizseqno: '123', uniqueid: 'u1', producergroup: 'pg', ttl: '3000', tag: 't', extFields: '{"a":"b"}',
  };
  const keys = Object.keys(base) as (keyof MessageFields)[];
  for (let i = 0; i < 20_000; i++) {
    const f: Record<string, string | undefined> = { ...base };
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const key = keys[Math.floor(r() * keys.length)]!;
      f[key] = r() < 0.1 ? undefined : Buffer.from(mutate(Buffer.from(f[key] ?? ''), r)).toString('utf8');
    }
    const headers: Record<string, string> = { protocoltype: i % 2 === 0 ? 'cloudevents' : 'eventmeshmessage', protocolversion: r() < 0.05 ? '0.3' : '1.0' };
    onlyEvmeshErrors(() => { messageEvent(headers, f as unknown as MessageFields, '127.0.0.1:1'); }, counts);
  }
  assert.ok((counts.get('ok') ?? 0) > 0 && counts.size > 1, JSON.stringify([...counts]));
});
