// evmesh binary protocol codec (src/protocol/binary): annotated byte fixtures parsed, encoded,
// round-tripped and fed one byte at a time; framing errors; a bounded fuzz run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvmeshError } from '../../src/errors.js';
import { FrameDecoder, type RawFrame } from '../../src/protocol/binary/frame-decoder.js';
import { FrameWriter } from '../../src/protocol/binary/frame-writer.js';
import { F, PREAMBLE } from '../../src/protocol/binary/frames.js';
import { HeaderCodec, checkStructures } from '../../src/protocol/binary/header-codec.js';
import { parseFrame, type Frame } from '../../src/protocol/binary/parse.js';
import { FIXTURES, readHex, type Fixture } from '../fixtures/binary/fixtures.js';
import { fuzz } from '../../scripts/fuzz-binary.js';
import { rawFrame } from '../fixtures/binary/raw-client.js';

const MAX = 4 * 1024 * 1024;

function decodeAll(fx: Fixture, bytes: Uint8Array, chunk = bytes.length): Frame[] {
  const dec = new FrameDecoder({ maxFrameBytes: MAX, preamble: fx.preamble });
  const codec = new HeaderCodec(fx.structures);
  const raws: RawFrame[] = [];
  for (let i = 0; i < bytes.length; i += chunk) raws.push(...dec.push(bytes.subarray(i, i + chunk)));
  assert.ok(dec.idle, 'nothing left over');
  return raws.map((r) => parseFrame(r, codec));
}

function plain(frames: Frame[]): unknown[] {
  return frames.map((f) => ({
    type: f.type,
    header: f.header,
    ...(f.data ? { data: f.data.map((d) => (d === undefined ? null : Buffer.from(d).toString())) } : {}),
  }));
}

function encode(fx: Fixture): Buffer {
  const w = new FrameWriter(new HeaderCodec(fx.structures));
  if (fx.preamble) w.preamble();
  for (const f of fx.frames) w.frame(f.type, f.header, f.data?.map((d) => (d === null ? undefined : Buffer.from(d))));
  return w.take()!;
}

for (const fx of FIXTURES) {
  test(`fixture ${fx.file}: parses to the expected frames`, () => {
    assert.deepEqual(plain(decodeAll(fx, readHex(fx.file))), fx.frames.map((f) => ({ ...f })));
  });
  test(`fixture ${fx.file}: encodes to exactly its bytes, and round-trips`, () => {
    const bytes = readHex(fx.file);
    assert.equal(encode(fx).toString('hex'), bytes.toString('hex'));
    assert.deepEqual(plain(decodeAll(fx, encode(fx))), plain(decodeAll(fx, bytes)));
  });
  test(`fixture ${fx.file}: fed one byte at a time (and in 3-byte chunks) gives the same frames`, () => {
    const bytes = readHex(fx.file);
    const whole = plain(decodeAll(fx, bytes));
    assert.deepEqual(plain(decodeAll(fx, bytes, 1)), whole);
    assert.deepEqual(plain(decodeAll(fx, bytes, 3)), whole);
  });
}

test('every proper prefix of a frame yields no frame and no error', () => {
  const fx = FIXTURES.find((f) => f.file === 'publish-2.hex')!;
  const bytes = readHex(fx.file);
  for (let n = 0; n < bytes.length; n++) {
    const dec = new FrameDecoder({ maxFrameBytes: MAX, preamble: false });
    assert.deepEqual(dec.push(bytes.subarray(0, n)), [], `prefix ${n}`);
  }
});

test('a frame inside one chunk is returned as views of it (no copy of payloads)', () => {
  const bytes = readHex('publish-2.hex');
  const [raw] = new FrameDecoder({ maxFrameBytes: MAX, preamble: false }).push(bytes);
  assert.equal(raw!.payload.length, 1);
  assert.equal(raw!.payload[0]!.buffer, bytes.buffer);
  const f = parseFrame(raw!, new HeaderCodec());
  assert.equal(f.data![0]!.buffer, bytes.buffer);
});

test('a frame split across chunks keeps views of them: only an event straddling two chunks is copied', () => {
  const w = new FrameWriter(new HeaderCodec());
  const data = [Buffer.alloc(3000, 1), Buffer.alloc(3000, 2), Buffer.alloc(3000, 3), Buffer.alloc(3000, 4)];
  w.frame(F.PUBLISH, { id: 7, topic: 't', events: data.map(() => ({})) }, data);
  const bytes = w.take()!;
  const cut = bytes.length - 3000 - 4 - 1500; // inside event 2's data
  // Chunks above Buffer's pool size: each has an ArrayBuffer of its own.
  const a = Buffer.from(bytes.subarray(0, cut)), b = Buffer.from(bytes.subarray(cut));
  const dec = new FrameDecoder({ maxFrameBytes: MAX, preamble: false });
  assert.deepEqual(dec.push(a), []);
  const [raw] = dec.push(b);
  assert.ok(raw!.payload.length === 2 && raw!.payload[0]!.buffer === a.buffer && raw!.payload[1]!.buffer === b.buffer, 'payload pieces are views');
  const f = parseFrame(raw!, new HeaderCodec());
  assert.equal((f.header as { id: number }).id, 7);
  assert.equal(f.data!.length, 4);
  for (let i = 0; i < 4; i++) assert.ok(Buffer.compare(f.data![i]!, data[i]!) === 0, `event ${i} data`);
  assert.deepEqual(f.data!.map((d) => d!.buffer === a.buffer ? 'a' : d!.buffer === b.buffer ? 'b' : 'copy'), ['a', 'a', 'copy', 'b']);
});

test('a frame trickling in byte by byte keeps at most 32 pieces: the rest is assembled into one buffer', () => {
  const w = new FrameWriter(new HeaderCodec());
  const data = [Buffer.alloc(500, 9)];
  w.frame(F.PUBLISH, { id: 1, topic: 't', events: [{}] }, data);
  const bytes = w.take()!;
  const dec = new FrameDecoder({ maxFrameBytes: MAX, preamble: false });
  const frames = [];
  for (let i = 0; i < bytes.length; i++) frames.push(...dec.push(bytes.subarray(i, i + 1)));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.payload.length, 1, 'one assembled piece, not one view per byte');
  assert.deepEqual(parseFrame(frames[0]!, new HeaderCodec()).data, data);
  assert.ok(dec.idle);
});

function decodeError(bytes: Uint8Array, opts: { preamble?: boolean; max?: number; chunk?: number } = {}): EvmeshError {
  const dec = new FrameDecoder({ maxFrameBytes: opts.max ?? MAX, preamble: opts.preamble ?? false });
  const chunk = opts.chunk ?? bytes.length;
  try {
    for (let i = 0; i < bytes.length; i += chunk) {
      for (const raw of dec.push(bytes.subarray(i, i + chunk))) parseFrame(raw, new HeaderCodec());
    }
  } catch (err) {
    assert.ok(err instanceof EvmeshError, `EvmeshError, got ${String(err)}`);
    return err;
  }
  assert.fail('no error');
}

test('FrameWriter.take() views stay intact while later frames fill the slab and roll over to new ones', () => {
  const w = new FrameWriter(new HeaderCodec(), undefined, 256);
  const codec = new HeaderCodec();
  const taken: { bytes: Buffer; copy: Buffer; n: number }[] = [];
  for (let n = 0; n < 40; n++) {
    // Frames of 10 … 1180 bytes: some fit the 256-byte slab's rest, some need a larger one.
    w.frame(F.PUBLISH, { id: n, topic: 't', events: [{ n }] }, [Buffer.alloc(n * 29, n)]);
    if (n % 3 === 0) { const bytes = w.take()!; taken.push({ bytes, copy: Buffer.from(bytes), n }); }
  }
  assert.equal(w.take(), undefined, 'frame 39 was taken: nothing pending');
  for (const t of taken) {
    assert.deepEqual(t.bytes, t.copy, `view taken after frame ${t.n} unchanged`);
    const frames = new FrameDecoder({ maxFrameBytes: MAX, preamble: false }).push(t.bytes).map((r) => parseFrame(r, codec));
    assert.equal((frames.at(-1)!.header as { id: number }).id, t.n);
  }
});

test('FrameWriter reuses a full slab from its start once idle() says its views are free, never before', () => {
  let idle = false;
  const w = new FrameWriter(new HeaderCodec(), () => idle, 8192); // above Buffer's pool: slabs of their own
  const frame = (id: number): void => w.frame(F.PUBLISH, { id, topic: 't', events: [{}] }, [Buffer.alloc(4500, id)]);
  frame(1);
  const a = w.take()!;
  const aCopy = Buffer.from(a);
  frame(2); // does not fit the slab's rest and `a` is still held: a new slab
  const b = w.take()!;
  assert.notEqual(b.buffer, a.buffer);
  frame(3);
  assert.deepEqual(a, aCopy, 'a held view is never overwritten');
  idle = true; // the socket completed every write
  frame(4); // does not fit: the slab is reused from its start, frame 3 (not taken yet) moved along
  const c = w.take()!;
  assert.equal(c.buffer, b.buffer, 'same slab');
  assert.equal(c.byteOffset, b.byteOffset, 'from its start');
  const ids = new FrameDecoder({ maxFrameBytes: MAX, preamble: false }).push(c).map((r) => (parseFrame(r, new HeaderCodec()).header as { id: number }).id);
  assert.deepEqual(ids, [3, 4]);
});

test('bad preamble: wrong magic → EVM_BAD_FRAME, wrong version → EVM_UNSUPPORTED (also byte by byte)', () => {
  for (const chunk of [undefined, 1]) {
    assert.equal(decodeError(Buffer.from('EVMX\x01'), { preamble: true, chunk }).code, 'EVM_BAD_FRAME');
    const e = decodeError(Buffer.from('EVMB\x07'), { preamble: true, chunk });
    assert.equal(e.code, 'EVM_UNSUPPORTED');
    assert.match(e.message, /version 7/);
  }
  assert.deepEqual(new FrameDecoder({ maxFrameBytes: MAX, preamble: true }).push(PREAMBLE), []);
});

test('bad lengths: below 5 → EVM_BAD_FRAME; above maxFrameBytes → EVM_TOO_LARGE before the body arrives', () => {
  assert.equal(decodeError(Buffer.from([0, 0, 0, 4, F.HEARTBEAT, 0, 0, 0])).code, 'EVM_BAD_FRAME');
  for (const chunk of [undefined, 1]) {
    const e = decodeError(Buffer.from([0, 0, 0x10, 0x01]), { max: 4096, chunk }); // 4 KiB + 1 + 4 claimed
    assert.equal(e.code, 'EVM_TOO_LARGE');
    assert.equal(decodeError(Buffer.from([0xff, 0xff, 0xff, 0xff]), { chunk }).code, 'EVM_TOO_LARGE');
  }
  // exactly at the limit is fine
  const ok = rawFrame(F.HEARTBEAT, new Uint8Array(0), new Uint8Array(0));
  assert.equal(new FrameDecoder({ maxFrameBytes: ok.length, preamble: false }).push(ok).length, 1);
});

test('unknown frame type, header longer than the frame, malformed header → EVM_BAD_FRAME', () => {
  assert.match(decodeError(rawFrame(0x99, new Uint8Array(0))).message, /unknown frame type 0x99/);
  const b = rawFrame(F.HEARTBEAT, new Uint8Array(0));
  b.writeUInt32BE(1, 5); // hlen 1, but nothing follows
  assert.equal(decodeError(b).code, 'EVM_BAD_FRAME');
  assert.equal(decodeError(rawFrame(F.PUBLISH, Buffer.from([0xc1]))).code, 'EVM_BAD_FRAME'); // 0xc1: never used in msgpack
  assert.equal(decodeError(rawFrame(F.PUBLISH, Buffer.from([0x92, 0x01]))).code, 'EVM_BAD_FRAME'); // truncated array
  assert.equal(decodeError(rawFrame(F.PUBLISH, Buffer.from([0x01, 0x02]))).code, 'EVM_BAD_FRAME'); // trailing bytes
});

test('event payloads must match the header: missing, extra or overlong data → EVM_BAD_FRAME', () => {
  const codec = new HeaderCodec();
  const h = Buffer.from(codec.encode({ id: 1, topic: 't', events: [{}, {}] }));
  assert.match(decodeError(rawFrame(F.PUBLISH, h, Buffer.from([0, 0, 0, 0]))).message, /fewer than 2/);
  assert.match(decodeError(rawFrame(F.PUBLISH, h, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 9]))).message, /after the last/);
  assert.match(decodeError(rawFrame(F.PUBLISH, h, Buffer.from([0, 0, 0, 9, 0, 0, 0, 0]))).message, /exceeds the payload/);
  assert.match(decodeError(rawFrame(F.HEARTBEAT, new Uint8Array(0), Buffer.from([1]))).message, /unexpected payload/);
  assert.match(decodeError(rawFrame(F.PUBLISH, Buffer.from(codec.encode({ id: 1, topic: 't' })))).message, /events/);
});

test('after an error the decoder keeps failing with it', () => {
  const dec = new FrameDecoder({ maxFrameBytes: MAX, preamble: true });
  assert.throws(() => dec.push(Buffer.from('XX')), { code: 'EVM_BAD_FRAME' });
  assert.throws(() => dec.push(PREAMBLE), { code: 'EVM_BAD_FRAME' });
});

test('header structures: HELLO lists are checked; unknown shapes are defined inline and decode anywhere', () => {
  assert.deepEqual(checkStructures(undefined), []);
  assert.throws(() => checkStructures('x'), { code: 'EVM_BAD_REQUEST' });
  assert.throws(() => checkStructures([['a', 'a']]), { code: 'EVM_BAD_REQUEST' });
  assert.throws(() => checkStructures([[]]), { code: 'EVM_BAD_REQUEST' });
  assert.throws(() => checkStructures(Array.from({ length: 30 }, () => ['a'])), { code: 'EVM_BAD_REQUEST' });
  const value = { zz: 1, list: [{ a: 1, b: 'x' }, { a: 2, b: 'y' }], n: 100 };
  const a = new HeaderCodec([['x']]);
  const bytes = Buffer.from(a.encode(value));
  assert.deepEqual(new HeaderCodec().decode(bytes), value);
  assert.deepEqual(new HeaderCodec([['q', 'r']]).decode(bytes), value);
  // A record of a connection structure is not understood by a codec without it.
  const rec = Buffer.from(new HeaderCodec([['x', 'y']]).encode({ x: 1, y: 2 }));
  assert.throws(() => new HeaderCodec().decode(rec), { code: 'EVM_BAD_FRAME' });
});

test('fuzz (bounded): 20k mutated fixtures raise nothing but EvmeshError', () => {
  const r = fuzz(20_000, 1);
  assert.equal(r.inputs, 20_000);
  assert.ok(r.frames > 0 && r.errors > 0, JSON.stringify(r));
});
