// Fuzzes the EventMesh TCP codec (src/protocol/tcp): mutates the worked-example fixtures
// (test/fixtures/eventmesh-tcp/*.hex, spec T81–T84) and feeds them, in random chunks, to the
// incremental decoder and the body decoders. Fails on any exception other than EvmeshError,
// on a decoder that buffers more than a frame, or on an input that takes over a second (hang).
// fuzzHeaders is differential: HeaderReader (header-template.ts) must answer every mutated
// header exactly as parseHeader (JSON.parse) does — the same Header or the same error — and
// fuzzBodies checks cloudEventOf (messages.ts) against JSON.parse of the whole CloudEvent body.
//
//   node --import tsx scripts/fuzz-eventmesh-tcp.ts [count=1000000] [seed=1]
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { EvmeshError } from '../src/errors.js';
import { bodyKind } from '../src/protocol/tcp/commands.js';
import { FrameDecoder, PREFIX_BYTES } from '../src/protocol/tcp/frame.js';
import { headerJson, parseHeader, type Header } from '../src/protocol/tcp/header.js';
import { HeaderReader } from '../src/protocol/tcp/header-template.js';
import { parseRedirectInfo, parseSubscription, parseUserAgent } from '../src/protocol/tcp/bodies.js';
import { cloudEventJson, cloudEventOf, decodeMessage } from '../src/protocol/tcp/messages.js';
import { fromStructuredJson } from '../src/protocol/cloudevents-json.js';
import type { MeshEvent } from '../src/core/types.js';
import { allFixtures } from '../test/fixtures/eventmesh-tcp/load.js';

export interface FuzzResult { inputs: number; frames: number; errors: Record<string, number>; maxMs: number }

const HANG_MS = 1000;

function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const INTERESTING = [0, 1, 12, 13, 20, 21, 0x7f, 0x80, 0xff, 0x22, 0x7b, 0x7d, 0x5c];
const INTERESTING_U32 = [0, 1, 7, 8, 12, 13, 14, 20, 21, 0x7fffffff, 0xffffffff, 4194296, 4194297, 65536];

function mutate(base: Buffer, pool: readonly Buffer[], r: () => number): Buffer {
  let b = Buffer.from(base);
  const n = 1 + (r() % 4);
  for (let k = 0; k < n; k++) {
    const at = b.length === 0 ? 0 : r() % b.length;
    switch (r() % 11) {
      case 0: if (b.length) b[at] = b[at]! ^ (1 << (r() % 8)); break; // bit flip
      case 1: if (b.length) b[at] = r() & 0xff; break; // random byte
      case 2: if (b.length) b[at] = INTERESTING[r() % INTERESTING.length]!; break;
      case 3: b = b.subarray(0, r() % (b.length + 1)); break; // truncate
      case 4: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + (r() % 8))]); break; // delete
      case 5: b = Buffer.concat([b.subarray(0, at), Buffer.from([r() & 0xff, r() & 0xff]), b.subarray(at)]); break; // insert
      case 6: if (b.length >= 21) b.writeUInt32BE(INTERESTING_U32[r() % INTERESTING_U32.length]!, r() % 2 ? 13 : 17); break; // length fields
      case 7: if (b.length >= 21) b.writeUInt32BE((b.readUInt32BE(13) + (r() % 11) - 5) >>> 0, 13); break; // length ± 5 (T3/T4 confusion)
      case 8: b = Buffer.concat([b, pool[r() % pool.length]!]); break; // another frame after it
      case 9: { // splice a piece of another fixture in
        const o = pool[r() % pool.length]!;
        const s = r() % o.length;
        b = Buffer.concat([b.subarray(0, at), o.subarray(s, s + 1 + (r() % 40)), b.subarray(at)]);
        break;
      }
      case 10: { // rewrite header JSON text: swap a token
        const tokens = ['null', '[]', '{}', '"x"', '2', '-1', '1e999', '"\\u0000"', '"HELLO_REQUEST"', '"SUBSCRIBE_REQUEST"', '"REQUEST_TO_SERVER"'];
        const t = Buffer.from(tokens[r() % tokens.length]!);
        b = Buffer.concat([b.subarray(0, at), t, b.subarray(at + (r() % 6))]);
        break;
      }
    }
  }
  return b;
}

/** Structure-aware: mutates the header or the body of a frame and fixes both length fields,
 *  so the mutation reaches the header JSON and body decoders. */
function mutateContent(base: Buffer, pool: readonly Buffer[], r: () => number): Buffer {
  const hl = base.readUInt32BE(17);
  let header = base.subarray(21, 21 + hl);
  let body = base.subarray(21 + hl);
  if (r() % 2) header = mutate(header, pool, r); else body = mutate(body, pool, r);
  if (r() % 4 === 0) body = pool[r() % pool.length]!.subarray(21 + pool[0]!.readUInt32BE(17)); // a body of another command
  const prefix = Buffer.from(base.subarray(0, 21));
  prefix.writeUInt32BE(13 + header.length + body.length, 13);
  prefix.writeUInt32BE(header.length, 17);
  return Buffer.concat([prefix, header, body]);
}

/** Decodes one input in random chunks, with every typed/message body decoder on each frame. */
function feed(input: Buffer, r: () => number, maxFrameBytes: number, legacyLength: boolean): number {
  const d = new FrameDecoder({ maxFrameBytes, maxHeaderBytes: 4096, legacyLength });
  let frames = 0;
  for (let i = 0; i < input.length;) {
    const size = 1 + (r() % (r() % 2 ? 8 : 512));
    d.push(input.subarray(i, i + size));
    i += size;
    for (let f = d.next(); f; f = d.next()) {
      frames++;
      const h = f.header;
      if (h?.cmd === undefined) continue;
      const kind = bodyKind(h.cmd);
      const guard = (fn: () => unknown): void => {
        try { fn(); } catch (err) { if (!(err instanceof EvmeshError)) throw err; }
      };
      if (kind === 'userAgent') guard(() => parseUserAgent(f.body));
      if (kind === 'subscription') guard(() => parseSubscription(f.body));
      if (kind === 'redirect') guard(() => parseRedirectInfo(f.body));
      if (kind === 'raw') guard(() => decodeMessage(h.properties, h.seq, f.body));
    }
    if (d.pending > maxFrameBytes + 512) throw new Error(`decoder buffers ${d.pending} bytes (limit ${maxFrameBytes})`);
  }
  return frames;
}

/** `hangMs`: an input taking longer counts as a hang (the CLI uses 1 s; tests pass Infinity). */
export function fuzz(count: number, seed = 1, hangMs = HANG_MS): FuzzResult {
  const pool = [...allFixtures().values()];
  const r = rng(seed);
  const result: FuzzResult = { inputs: 0, frames: 0, errors: {}, maxMs: 0 };
  for (let i = 0; i < count; i++) {
    const base = pool[r() % pool.length]!;
    const input = r() % 2 ? mutateContent(base, pool, r) : mutate(base, pool, r);
    const t0 = performance.now();
    try {
      result.frames += feed(input, r, r() % 4 === 0 ? 300 : 4 * 1024 * 1024, r() % 8 === 0);
    } catch (err) {
      if (!(err instanceof EvmeshError)) {
        throw new Error(`input ${i} (seed ${seed}) threw a non-EvmeshError: ${String(err)}\ninput hex: ${input.toString('hex')}`);
      }
      result.errors[err.code] = (result.errors[err.code] ?? 0) + 1;
    }
    const ms = performance.now() - t0;
    if (ms > result.maxMs) result.maxMs = ms;
    if (ms > hangMs) throw new Error(`input ${i} (seed ${seed}) took ${ms.toFixed(0)} ms: ${input.toString('hex')}`);
    result.inputs++;
  }
  return result;
}

/** Headers a reader learns from: the fixtures' and the ones SDKs and the server send often,
 *  plus shapes that must never become templates (seq twice, escapes, spaces, numeric seq). */
function headerBases(): Buffer[] {
  const ce = { protocoltype: 'cloudevents', protocolversion: '1.0', protocoldesc: 'tcp' };
  const fromFixtures = [...allFixtures().values()].map((f) => f.subarray(PREFIX_BYTES, PREFIX_BYTES + f.readUInt32BE(17)));
  const made = [
    headerJson({ cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, seq: '1234567890', properties: ce }),
    headerJson({ cmd: 'ASYNC_MESSAGE_TO_SERVER_ACK', code: 0, desc: 'success', seq: '17', properties: {} }),
    headerJson({ cmd: 'ASYNC_MESSAGE_TO_CLIENT', code: 0, seq: '', properties: { protocoltype: 'cloudevents' } }),
    '{"cmd":"HEARTBEAT_REQUEST","seq":"5","properties":{"seq":"5"}}',
    '{"properties":{"k":"a\\"},"seq":"9","cmd":"LISTEN_REQUEST"}',
    '{"cmd":"LISTEN_REQUEST", "seq":"9"}',
    '{"cmd":"LISTEN_REQUEST","seq":9}',
    '{"seq":"1","cmd":"LISTEN_REQUEST","seq":"2"}',
  ].map((h) => Buffer.from(h));
  return [...fromFixtures, ...made];
}

const SEQ_BYTES = [0x30, 0x39, 0x41, 0x20, 0x7e, 0x22, 0x5c, 0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xa9, 0xff];

/** Mostly a new seq (the template's hit path), else any mutation of the header bytes. */
function mutateHeader(base: Buffer, pool: readonly Buffer[], r: () => number): Buffer {
  const at = base.indexOf('"seq":"');
  if (at < 0 || r() % 3 === 0) return mutate(base, pool, r);
  const from = at + 7, to = base.indexOf(0x22, from);
  const seq = Buffer.from(Array.from({ length: r() % 12 }, () => (r() % 4 ? 0x30 + (r() % 10) : SEQ_BYTES[r() % SEQ_BYTES.length]!)));
  return Buffer.concat([base.subarray(0, from), seq, base.subarray(to < 0 ? from : to)]);
}

function readOrError(read: () => Header): Header | string {
  try { return read(); } catch (err) {
    if (!(err instanceof EvmeshError)) throw err;
    return `${err.code}: ${err.message}`;
  }
}

/** `count` mutated headers through one HeaderReader per base (which learns as it goes) and
 *  through parseHeader; throws on the first difference. Returns how many the reader answered
 *  from a template (not JSON.parse). */
export function fuzzHeaders(count: number, seed = 1): { inputs: number; fromTemplate: number } {
  const pool = [...allFixtures().values()];
  const bases = headerBases();
  const r = rng(seed);
  let fromTemplate = 0;
  for (let i = 0; i < count;) {
    const base = bases[r() % bases.length]!;
    const reader = new HeaderReader();
    let last = readOrError(() => reader.read(base, 0, base.length));
    for (let k = 0; k < 50 && i < count; k++, i++) {
      const input = mutateHeader(base, pool, r);
      // A chunk with bytes around the header, as the decoder passes it.
      const chunk = Buffer.concat([Buffer.from([0x7b, 0x22]), input, Buffer.from([0x22, 0x7d])]);
      const expected = readOrError(() => parseHeader(input));
      const got = readOrError(() => reader.read(chunk, 2, 2 + input.length));
      // JSON.parse makes new properties; a template hands out its own again.
      if (typeof got !== 'string') {
        if (typeof last !== 'string' && got.properties === last.properties) fromTemplate++;
        last = got;
      }
      if (!isDeepStrictEqual(got, expected)) {
        throw new Error(`header ${i} (seed ${seed}): HeaderReader ${JSON.stringify(got)} ≠ parseHeader ${JSON.stringify(expected)}\ninput: ${JSON.stringify(input.toString('latin1'))}`);
      }
    }
  }
  return { inputs: count, fromTemplate };
}

/** CloudEvents bodies as SDKs write them: binary data last as data_base64 (padded 0, 1, 2),
 *  JSON and text data, no data, and the T84 fixture's body. */
function bodyBases(): Buffer[] {
  const attributes = { specversion: '1.0', id: 'e1', source: '/s', type: 't', subject: 'topic', datacontenttype: 'application/octet-stream', n: 5 };
  const events: MeshEvent[] = [
    { attributes, data: Buffer.from('binary \u0000 data!') },
    { attributes: { ...attributes, n: true }, data: Buffer.alloc(1024, 0xab) },
    { attributes, data: Buffer.from('ab') },
    { attributes: { ...attributes, datacontenttype: 'application/json' }, data: Buffer.from('{"a":[1,2]}') },
    { attributes: { ...attributes, datacontenttype: 'text/plain' }, data: Buffer.from('héllo') },
    { attributes },
  ];
  const t84 = allFixtures().get('t84-async-message-cloudevent')!;
  return [...events.map((e) => Buffer.from(cloudEventJson(e))), t84.subarray(PREFIX_BYTES + t84.readUInt32BE(17))];
}

const BODY_BYTES = [0x00, 0x0a, 0x1f, 0x20, 0x22, 0x2c, 0x2d, 0x3d, 0x41, 0x5c, 0x5f, 0x7b, 0x7d, 0x7f, 0x80, 0xc3, 0xff];
const BODY_TOKENS = [',"data_base64":"', '"data_base64":', ',"data":', '"}', '=', '==', '\\u0041', ' ', '{', '}', 'null', '"x":"y",'];

/** Mostly small edits near the end (the base64 member), else any mutation of the body. */
function mutateBody(base: Buffer, pool: readonly Buffer[], r: () => number): Buffer {
  if (r() % 4 === 0) return mutate(base, pool, r);
  let b = Buffer.from(base);
  for (let k = 1 + (r() % 3); k > 0; k--) {
    const at = Math.max(0, b.length - 1 - (r() % Math.min(b.length, 64)));
    if (r() % 2) b[at] = BODY_BYTES[r() % BODY_BYTES.length]!;
    else b = Buffer.concat([b.subarray(0, at), Buffer.from(BODY_TOKENS[r() % BODY_TOKENS.length]!), b.subarray(at + (r() % 3))]);
  }
  return b;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The reference: the whole body through JSON.parse (messages.ts before its data_base64 path). */
function cloudEventByJsonParse(body: Uint8Array): MeshEvent {
  let json: unknown;
  try {
    json = JSON.parse(strictUtf8.decode(body));
  } catch {
    throw new EvmeshError('EVM_BAD_EVENT', 'CloudEvents body is not UTF-8 JSON');
  }
  return fromStructuredJson(json);
}

function eventOrError(decode: () => MeshEvent): unknown {
  try {
    const e = decode();
    return { attributes: e.attributes, data: e.data === undefined ? undefined : Buffer.from(e.data).toString('hex') };
  } catch (err) {
    if (!(err instanceof EvmeshError)) throw err;
    return `${err.code}: ${err.message}`;
  }
}

/** `count` mutated CloudEvent bodies through cloudEventOf and through JSON.parse of the whole;
 *  throws on the first difference. Returns how many decoded with binary data (the path that
 *  skips JSON.parse of the base64 text is taken for those that end with it). */
export function fuzzBodies(count: number, seed = 1): { inputs: number; binary: number } {
  const pool = [...allFixtures().values()];
  const bases = bodyBases();
  const r = rng(seed);
  let binary = 0;
  for (let i = 0; i < count; i++) {
    const input = mutateBody(bases[r() % bases.length]!, pool, r);
    const expected = eventOrError(() => cloudEventByJsonParse(input));
    const got = eventOrError(() => cloudEventOf(input));
    if (!isDeepStrictEqual(got, expected)) {
      throw new Error(`body ${i} (seed ${seed}): cloudEventOf ${JSON.stringify(got)} ≠ JSON.parse ${JSON.stringify(expected)}\ninput: ${JSON.stringify(input.toString('latin1'))}`);
    }
    if (typeof got !== 'string' && input.includes('"data_base64":"')) binary++;
  }
  return { inputs: count, binary };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const count = Number(process.argv[2] ?? 1_000_000);
  const seed = Number(process.argv[3] ?? 1);
  const t0 = performance.now();
  const res = fuzz(count, seed);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(`fuzz-eventmesh-tcp: ${res.inputs} inputs, ${res.frames} frames decoded, errors ${JSON.stringify(res.errors)}, slowest input ${res.maxMs.toFixed(1)} ms, ${s} s (seed ${seed})\n`);
  const h = fuzzHeaders(count, seed);
  process.stdout.write(`fuzz-eventmesh-tcp: ${h.inputs} headers, HeaderReader = parseHeader on all (${h.fromTemplate} read from a template)\n`);
  const b = fuzzBodies(count, seed);
  process.stdout.write(`fuzz-eventmesh-tcp: ${b.inputs} CloudEvent bodies, cloudEventOf = JSON.parse on all (${b.binary} with data_base64)\n`);
}
