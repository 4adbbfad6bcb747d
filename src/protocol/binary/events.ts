// Events in frames: attributes in the header (one msgpack map per event), data bytes in the
// payload as `len:u32be bytes` per event in the same order (len 0xFFFFFFFF = no data). Data is
// returned as views of the payload (no copy).
import { EvmeshError } from '../../errors.js';
import type { MeshEvent } from '../../core/types.js';
import { readU32 } from './frame-decoder.js';
import { NO_DATA, type Attributes } from './frames.js';

/** Splits a payload into `count` data entries; a count mismatch or leftover bytes → EVM_BAD_FRAME. */
export function readEventData(payload: Uint8Array, count: number): (Uint8Array | undefined)[] {
  const out: (Uint8Array | undefined)[] = new Array(count);
  const end = payload.length;
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (end - p < 4) throw new EvmeshError('EVM_BAD_FRAME', `payload holds fewer than ${count} events`);
    const n = readU32(payload, p);
    p += 4;
    if (n === NO_DATA) { out[i] = undefined; continue; }
    if (n > end - p) throw new EvmeshError('EVM_BAD_FRAME', `event ${i} data length ${n} exceeds the payload`);
    out[i] = payload.subarray(p, p + n);
    p += n;
  }
  if (p !== end) throw new EvmeshError('EVM_BAD_FRAME', `${end - p} bytes after the last event's data`);
  return out;
}

/** `{attributes, data}` as core takes it (validated by core, not here). */
export function meshEvent(attributes: unknown, data: Uint8Array | undefined): MeshEvent {
  return (data === undefined ? { attributes } : { attributes, data }) as MeshEvent;
}

export function isAttributes(v: unknown): v is Attributes {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
