// CRC-32C: the native addon and the TypeScript fallback against the same vectors.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { crc32c, crc32cJs, nativeAddon } from '../../src/native.js';

// Bit-at-a-time reference, straight from the definition (reflected polynomial 0x82F63B78).
function crc32cRef(data: Uint8Array, initial = 0): number {
  let crc = ~initial >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const filled = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

// Known answers: the catalogue check value, RFC 3720 §B.4 (iSCSI) vectors, single bytes.
const VECTORS: Array<[string, Uint8Array, number]> = [
  ['empty', new Uint8Array(0), 0x00000000],
  ['"123456789" (check value)', ascii('123456789'), 0xe3069283],
  ['one byte 0x00', Uint8Array.of(0), 0x527d5351],
  ['one byte "a"', ascii('a'), 0xc1d04330],
  ['RFC 3720 32 × 0x00', new Uint8Array(32), 0x8a9136aa],
  ['RFC 3720 32 × 0xff', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['RFC 3720 32 ascending', filled(32, (i) => i), 0x46dd794e],
  ['RFC 3720 32 descending', filled(32, (i) => 31 - i), 0x113fdb5c],
];

it('loads the native addon (run with EVMESH_NATIVE=0 to test without it)', () => {
  if (process.env['EVMESH_NATIVE'] === '0') assert.equal(nativeAddon.loaded, false);
  else assert.equal(nativeAddon.loaded, true, `addon not loaded: ${nativeAddon.reason}`);
});

// `crc32c` is the addon's function when it loaded, else crc32cJs itself.
const impls: Array<[string, (d: ArrayBufferView, initial?: number) => number]> = [['js', crc32cJs]];
if (nativeAddon.loaded) {
  impls.push([`native (${nativeAddon.crc32cImpl})`, crc32c]);
  // The addon's portable table path, which the dispatcher skips on SSE4.2 CPUs.
  const addon = createRequire(import.meta.url)('../../native/build/Release/evmesh_native.node') as {
    crc32cPortable: (d: ArrayBufferView, initial?: number) => number;
  };
  impls.push(['native (table)', addon.crc32cPortable]);
}

// 1 MiB of random bytes plus sizes around the native path's block boundaries (8-byte words,
// 3 × 256 B and 3 × 8 KiB interleaved blocks).
const big = randomBytes(1 << 20);
const SIZES = [...Array.from({ length: 80 }, (_, i) => i), 255, 256, 767, 768, 769, 1023, 1024, 1025,
  1536, 24575, 24576, 24577, 24576 + 768, 3 * 24576 + 5, 65536, 100_003];

for (const [name, fn] of impls) {
  describe(`crc32c ${name}`, () => {
    for (const [label, data, expected] of VECTORS) {
      it(`known answer: ${label}`, () => assert.equal(fn(data), expected));
    }

    it('returns an unsigned 32-bit integer', () => {
      for (let i = 0; i < 64; i++) {
        const v = fn(randomBytes(i));
        assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, String(v));
      }
    });

    it('matches the bitwise reference on unaligned subarrays of a larger buffer', () => {
      for (const n of SIZES) {
        for (let offset = 0; offset < 8; offset++) {
          const view = big.subarray(offset + 1, offset + 1 + n);
          assert.equal(fn(view), crc32cRef(view), `size ${n} offset ${offset + 1}`);
        }
      }
    });

    it('1 MiB random: equals the bitwise reference', () => {
      assert.equal(fn(big), crc32cRef(big));
    });

    it('chains: crc32c(b, crc32c(a)) === crc32c(a ‖ b)', () => {
      const data = big.subarray(3, 3 + 50_000);
      const whole = fn(data);
      for (const cut of [0, 1, 7, 8, 13, 100, 768, 24_576, 30_001, 49_999, 50_000]) {
        assert.equal(fn(data.subarray(cut), fn(data.subarray(0, cut))), whole, `cut at ${cut}`);
      }
      let running = 0;
      for (let i = 0; i < 200; i++) running = fn(data.subarray(i, i + 1), running);
      assert.equal(running, fn(data.subarray(0, 200)));
    });

    it('reads any ArrayBufferView over its bytes, including shared memory', () => {
      const bytes = big.subarray(16, 16 + 4096);
      const expected = crc32cRef(bytes);
      assert.equal(fn(new Uint32Array(bytes.buffer, bytes.byteOffset, 1024)), expected);
      assert.equal(fn(new DataView(bytes.buffer, bytes.byteOffset, 4096)), expected);
      assert.equal(fn(Buffer.from(bytes.buffer, bytes.byteOffset, 4096)), expected);
      const shared = new Uint8Array(new SharedArrayBuffer(4096 + 5), 5);
      shared.set(bytes);
      assert.equal(fn(shared), expected);
    });
  });
}

it('native and js agree on 1 MiB random and every size up to 300 bytes', { skip: !nativeAddon.loaded }, () => {
  const native = crc32c;
  assert.equal(native(big), crc32cJs(big));
  for (let n = 0; n <= 300; n++) {
    const view = big.subarray(5, 5 + n);
    assert.equal(native(view, n * 7919), crc32cJs(view, n * 7919), `size ${n}`);
  }
});

it('native rejects non-views with a TypeError', { skip: !nativeAddon.loaded }, () => {
  const native = crc32c;
  assert.throws(() => native('abc' as unknown as Uint8Array), TypeError);
  assert.throws(() => native(new ArrayBuffer(4) as unknown as Uint8Array), TypeError);
  assert.throws(() => native(new Uint8Array(1), 'x' as unknown as number), TypeError);
});
