// Fuzzes the evmesh binary protocol decoder (framing + msgpack headers + event payloads) with
// mutations of the annotated fixtures (test/fixtures/binary): bit flips, byte changes, inserts,
// deletes, truncation, splices, length fields set to edge values, and header-only mutations
// with the lengths fixed up (to reach deep into msgpackr). Every input is fed in random chunks.
// Nothing but EvmeshError may be thrown and no input may take long.
//
//   node --import tsx scripts/fuzz-binary.ts [count=1000000] [seed=1]
import { pathToFileURL } from 'node:url';
import { EvmeshError } from '../src/errors.js';
import { FrameDecoder } from '../src/protocol/binary/frame-decoder.js';
import { HeaderCodec } from '../src/protocol/binary/header-codec.js';
import { parseFrame } from '../src/protocol/binary/parse.js';
import { FIXTURES, readHex } from '../test/fixtures/binary/fixtures.js';

export interface FuzzResult {
  inputs: number;
  /** Frames decoded completely. */
  frames: number;
  /** Inputs rejected with an EvmeshError, by code. */
  errors: number;
  codes: Record<string, number>;
  slowestMs: number;
}

/** Slowest acceptable input (a hang guard; generous for a loaded machine). */
const SLOW_MS = 1000;

export function fuzz(count: number, seed = 1): FuzzResult {
  let s = seed >>> 0 || 1;
  const rnd = (n: number): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s % n;
  };
  const corpus = FIXTURES.map((fx) => ({ fx, bytes: readHex(fx.file) }));
  const codecs = new Map(FIXTURES.map((fx) => [fx, new HeaderCodec(fx.structures)]));
  const res: FuzzResult = { inputs: 0, frames: 0, errors: 0, codes: {}, slowestMs: 0 };
  const edge = [0, 1, 4, 5, 6, 8, 9, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x3fffff, 0x400000, 0x7fffffff, 0xfffffffe, 0xffffffff];

  for (let i = 0; i < count; i++) {
    const { fx, bytes } = corpus[rnd(corpus.length)]!;
    const input = mutate(bytes, fx.preamble ? 5 : 0);
    const dec = new FrameDecoder({ maxFrameBytes: 4 * 1024 * 1024, preamble: fx.preamble });
    const codec = codecs.get(fx)!;
    const t0 = performance.now();
    try {
      const chunkMax = 1 + rnd(input.length + 1);
      for (let p = 0; p < input.length;) {
        const n = 1 + rnd(chunkMax);
        for (const raw of dec.push(input.subarray(p, p + n))) { parseFrame(raw, codec); res.frames++; }
        p += n;
      }
    } catch (err) {
      if (!(err instanceof EvmeshError)) {
        throw new Error(`fuzz input ${i} (seed ${seed}, fixture ${fx.file}) threw ${String(err)}: ${Buffer.from(input).toString('hex')}`);
      }
      res.errors++;
      res.codes[err.code] = (res.codes[err.code] ?? 0) + 1;
    }
    const ms = performance.now() - t0;
    if (ms > res.slowestMs) res.slowestMs = ms;
    if (ms > SLOW_MS) throw new Error(`fuzz input ${i} took ${ms.toFixed(0)} ms: ${Buffer.from(input).toString('hex')}`);
    res.inputs++;
  }
  return res;

  function mutate(src: Buffer, skip: number): Uint8Array {
    let b: Buffer = Buffer.from(src);
    const rounds = 1 + rnd(4);
    for (let r = 0; r < rounds; r++) {
      const pos = b.length === 0 ? 0 : rnd(b.length);
      switch (rnd(9)) {
        case 0: if (b.length) b[pos] = b[pos]! ^ (1 << rnd(8)); break;
        case 1: if (b.length) b[pos] = rnd(256); break;
        case 2: b = Buffer.concat([b.subarray(0, pos), Buffer.from([rnd(256)]), b.subarray(pos)]); break;
        case 3: b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + 1 + rnd(8))]); break;
        case 4: b = b.subarray(0, rnd(b.length + 1)); break;
        case 5: { // splice another fixture's tail
          const o = corpus[rnd(corpus.length)]!.bytes;
          b = Buffer.concat([b.subarray(0, pos), o.subarray(rnd(o.length))]);
          break;
        }
        case 6: { // a length field (frame or header) set to an edge value
          const at = skip + (rnd(2) === 0 ? 0 : 5);
          if (b.length >= at + 4) b.writeUInt32BE(edge[rnd(edge.length)]!, at);
          break;
        }
        case 7: b = headerMutation(b, skip); break;
        default: b = Buffer.concat([b, b.subarray(skip)]); break; // two frames back to back
      }
    }
    return b;
  }

  /** Mutates bytes inside the first frame's header and fixes both length fields. */
  function headerMutation(b: Buffer, skip: number): Buffer {
    if (b.length < skip + 9) return b;
    const len = b.readUInt32BE(skip), hlen = b.readUInt32BE(skip + 5);
    if (hlen === 0 || skip + 4 + len > b.length || 9 + hlen > 4 + len) return b;
    const header = Buffer.from(b.subarray(skip + 9, skip + 9 + hlen));
    const payload = b.subarray(skip + 9 + hlen, skip + 4 + len);
    let h: Buffer = header;
    const at = rnd(h.length);
    switch (rnd(4)) {
      case 0: h[at] = rnd(256); break;
      case 1: h = Buffer.concat([h.subarray(0, at), Buffer.from([[0xdc, 0xdd, 0xde, 0xdf, 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb, 0xd4, 0xd5, 0xc7, 0xc8, 0xc9, 0x72, 0x70][rnd(17)]!, rnd(256), rnd(256), rnd(256), rnd(256)]), h.subarray(at)]); break;
      case 2: h = h.subarray(0, at); break;
      default: h[at] = 0x40 + rnd(0x40); break; // record ids, defined or not
    }
    const out = Buffer.alloc(skip + 9 + h.length + payload.length);
    b.copy(out, 0, 0, skip);
    out.writeUInt32BE(5 + h.length + payload.length, skip);
    out[skip + 4] = b[skip + 4]!;
    out.writeUInt32BE(h.length, skip + 5);
    h.copy(out, skip + 9);
    payload.copy(out, skip + 9 + h.length);
    return Buffer.concat([out, b.subarray(skip + 4 + len)]);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const count = Number(process.argv[2] ?? 1_000_000);
  const seed = Number(process.argv[3] ?? 1);
  const t0 = Date.now();
  const r = fuzz(count, seed);
  console.log(JSON.stringify({ ...r, seconds: (Date.now() - t0) / 1000, seed }));
}
