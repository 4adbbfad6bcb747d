// Protocol sniffing on the shared TCP port (src/protocol/tcp-listener.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sniff } from '../../src/protocol/tcp-listener.js';
import type { TcpProtocol } from '../../src/protocol/types.js';

const proto = (name: string, magic: string): TcpProtocol => ({
  name, magic: Buffer.from(magic), accept: () => ({ drain: async () => {}, close: () => {} }),
});
const em = proto('eventmesh', 'EventMesh');
const bin = proto('binary', 'EVMB');
const all = [em, bin];

test('sniff: a full magic selects its protocol, whatever follows (spec T2 "EventMesh")', () => {
  assert.equal(sniff(Buffer.from('EventMesh0000'), all), em);
  assert.equal(sniff(Buffer.from('EVMB\x01'), all), bin);
});

test('sniff: a prefix of a magic asks for more bytes, fed one byte at a time', () => {
  const bytes = Buffer.from('EventMesh');
  for (let n = 1; n < bytes.length; n++) assert.equal(sniff(bytes.subarray(0, n), all), 'more', `after ${n} bytes`);
  assert.equal(sniff(bytes, all), em);
});

test('sniff: anything else is refused (the connection is closed, spec T5)', () => {
  assert.equal(sniff(Buffer.from('GET / HTTP/1.1'), all), undefined);
  assert.equal(sniff(Buffer.from('Eventmesh'), all), undefined);
  assert.equal(sniff(Buffer.from([0, 0, 0, 0]), all), undefined);
});
