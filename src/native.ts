// Loads the native addon (native/, built by scripts/build.mjs) and exposes its functions with
// TypeScript fallbacks (DESIGN §1 "Native where it pays"). EVMESH_NATIVE=0 disables the addon.
// Both paths are tested against the same vectors (test/native/).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface Addon {
  crc32c(data: ArrayBufferView, initial?: number): number;
  crc32cImpl: string;
  listenReusePort(host: string, port: number, backlog: number): number;
  boundPort(fd: number): number;
}

// This file runs as src/native.ts (tsx) and as dist/src/native.js (tsc): try both depths.
const ADDON_PATHS = ['../native/build/Release/evmesh_native.node', '../../native/build/Release/evmesh_native.node'];

function load(): { addon?: Addon; reason?: string } {
  if (process.env['EVMESH_NATIVE'] === '0') return { reason: 'disabled by EVMESH_NATIVE=0' };
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const rel of ADDON_PATHS) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    try {
      return { addon: require(path) as Addon };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'MODULE_NOT_FOUND') failures.push(`${path}: ${e.message}`);
    }
  }
  return { reason: failures.length ? failures.join('; ') : 'native/build/Release/evmesh_native.node not built' };
}

const loaded = load();
const addon = loaded.addon;

/** Whether the addon is in use; `reason` says why not; `crc32cImpl` is 'sse4.2' or 'table'. */
export const nativeAddon: { loaded: boolean; reason?: string; crc32cImpl?: string } = addon
  ? { loaded: true, crc32cImpl: addon.crc32cImpl }
  : { loaded: false, reason: loaded.reason ?? 'unknown' };

// --- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) --------------------------------

// Slicing-by-8: T[k][b] is the register after byte b followed by k zero bytes.
const T = Array.from({ length: 8 }, () => new Int32Array(256));
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  T[0]![b] = c;
}
for (let b = 0; b < 256; b++) {
  for (let k = 1; k < 8; k++) T[k]![b] = (T[k - 1]![b]! >>> 8) ^ T[0]![T[k - 1]![b]! & 0xff]!;
}
const [T0, T1, T2, T3, T4, T5, T6, T7] = T as [Int32Array, Int32Array, Int32Array, Int32Array,
  Int32Array, Int32Array, Int32Array, Int32Array];

function bytesOf(data: ArrayBufferView): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** CRC-32C in TypeScript (slicing-by-8). Same contract as {@link crc32c}. */
export function crc32cJs(data: ArrayBufferView, initial = 0): number {
  const d = bytesOf(data);
  const n = d.length;
  let crc = ~initial;
  let i = 0;
  for (const end = n - 7; i < end; i += 8) {
    const lo = (d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24)) ^ crc;
    crc = T7[lo & 0xff]! ^ T6[(lo >>> 8) & 0xff]! ^ T5[(lo >>> 16) & 0xff]! ^ T4[lo >>> 24]! ^
      T3[d[i + 4]!]! ^ T2[d[i + 5]!]! ^ T1[d[i + 6]!]! ^ T0[d[i + 7]!]!;
  }
  for (; i < n; i++) crc = T0[(crc ^ d[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

// Measured (Node 20, x86-64, one process per case): a native call costs ~50 ns before its first
// byte, so JS and native break even at ~64 B (52 vs 53 ns); native wins from there (128 B: 61
// vs 101 ns; 64 KiB: ~20×). Dispatching small buffers to JS cost more (8–17 ns on every call)
// than it saved, so there is no size switch.
/**
 * CRC-32C of `data` (read in place, never copied) as an unsigned 32-bit number. `initial` is a
 * previous result to continue from: crc32c(b, crc32c(a)) === crc32c(a ‖ b). Check value:
 * crc32c("123456789") === 0xe3069283.
 */
export const crc32c: (data: ArrayBufferView, initial?: number) => number = addon ? addon.crc32c : crc32cJs;

// --- SO_REUSEPORT listen sockets --------------------------------------------------------

/** Whether {@link listenReusePort} works here (Node 20 has no reusePort: it needs the addon). */
export function reusePortSupported(): boolean {
  return addon !== undefined && process.platform !== 'win32';
}

function unsupported(): never {
  throw Object.assign(new Error(`SO_REUSEPORT listening needs the native addon (${nativeAddon.reason})`), {
    code: 'ERR_EVMESH_NO_NATIVE',
  });
}

/**
 * A non-blocking, close-on-exec TCP socket with SO_REUSEADDR + SO_REUSEPORT bound to host:port
 * (an IPv4 or IPv6 literal) and listening; returns its fd for `server.listen({ fd })`, after
 * which the libuv handle owns it. Throws an Error with Node-style `code` (EADDRINUSE …),
 * `errno`, `syscall`, `address`, `port`.
 */
export function listenReusePort(host: string, port: number, backlog: number): number {
  return addon ? addon.listenReusePort(host, port, backlog) : unsupported();
}

/** The local port of a bound socket fd (getsockname): how port 0 is resolved. */
export function boundPort(fd: number): number {
  return addon ? addon.boundPort(fd) : unsupported();
}
