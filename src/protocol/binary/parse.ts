// A raw frame → its decoded header and event data (for frames that carry events). Pure.
import { EvmeshError } from '../../errors.js';
import { readEventData } from './events.js';
import type { RawFrame } from './frame-decoder.js';
import { F } from './frames.js';
import type { HeaderCodec } from './header-codec.js';

export interface Frame {
  readonly type: number;
  readonly header: unknown;
  /** Event data per event (views of the frame), for PUBLISH, DELIVER, REQUEST and REPLY. */
  readonly data?: (Uint8Array | undefined)[];
}

/** Events a frame's payload carries according to its header (undefined: no event payload). */
export function eventCount(type: number, header: unknown): number | undefined {
  switch (type) {
    case F.PUBLISH: return listLength(header, 'events');
    case F.DELIVER: return listLength(header, 'd');
    case F.REQUEST: case F.REPLY: return 1;
    default: return undefined;
  }
}

function listLength(header: unknown, field: string): number {
  const list = typeof header === 'object' && header !== null ? (header as Record<string, unknown>)[field] : undefined;
  if (!Array.isArray(list)) throw new EvmeshError('EVM_BAD_FRAME', `the header needs ${field} (an array)`);
  return list.length;
}

export function parseFrame(raw: RawFrame, codec: HeaderCodec): Frame {
  const header = codec.decode(raw.header);
  const n = eventCount(raw.type, header);
  if (n === undefined) {
    const extra = raw.payload.reduce((n, p) => n + p.length, 0);
    if (extra !== 0) throw new EvmeshError('EVM_BAD_FRAME', `${extra} unexpected payload bytes`);
    return { type: raw.type, header };
  }
  return { type: raw.type, header, data: readEventData(raw.payload, n) };
}
