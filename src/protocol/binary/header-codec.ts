// Frame headers are msgpack (msgpackr) with records: an object whose key list is one of the
// connection's shared structures is encoded as a one-byte structure id + its values, so a batch
// of events with the same attribute names costs only the values. The shared set is
// BASE_STRUCTURES (fixed by the protocol version) + the client's list from HELLO, agreed for the
// rest of the connection; other shapes are defined inline once per frame (msgpackr's "own"
// structures) and forgotten after it, so decoding stays stateless per frame.
import { Packr, Unpackr } from 'msgpackr';
import { EvmeshError } from '../../errors.js';

/** Version-1 structures (ids 0x40 …). Changing this list is a protocol version change. */
export const BASE_STRUCTURES: readonly (readonly string[])[] = [
  ['id', 'topic', 'events'],
  ['id', 'runs'],
  ['sub', 'topic', 'tag', 'd'],
  ['tags'],
  ['sub', 'n'],
  ['specversion', 'id', 'source', 'type'],
  ['specversion', 'id', 'source', 'type', 'datacontenttype'],
  ['specversion', 'id', 'source', 'type', 'datacontenttype', 'time'],
];
/** Most shared structures per connection (ids stay one byte). */
export const MAX_STRUCTURES = 32;
/** Limits on a client's structure list (HELLO). */
export const MAX_STRUCTURE_KEYS = 64;
export const MAX_STRUCTURE_KEY_LENGTH = 255;

/** Checks a HELLO `structures` value; returns it typed, or throws EVM_BAD_REQUEST. */
export function checkStructures(value: unknown): string[][] {
  if (value === undefined || value === null) return [];
  const room = MAX_STRUCTURES - BASE_STRUCTURES.length;
  if (!Array.isArray(value) || value.length > room) throw new EvmeshError('EVM_BAD_REQUEST', `structures must be an array of at most ${room} key lists`);
  for (const keys of value) {
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_STRUCTURE_KEYS) {
      throw new EvmeshError('EVM_BAD_REQUEST', `each structure must be a list of 1 to ${MAX_STRUCTURE_KEYS} keys`);
    }
    const seen = new Set<string>();
    for (const k of keys) {
      if (typeof k !== 'string' || k.length === 0 || k.length > MAX_STRUCTURE_KEY_LENGTH || seen.has(k)) {
        throw new EvmeshError('EVM_BAD_REQUEST', 'structure keys must be distinct non-empty strings of at most 255 characters');
      }
      seen.add(k);
    }
  }
  return value as string[][];
}

export class HeaderCodec {
  private readonly packr: Packr;
  private readonly unpackr: Unpackr;

  constructor(extra: readonly (readonly string[])[] = []) {
    const all = [...BASE_STRUCTURES, ...extra];
    if (all.length > MAX_STRUCTURES) throw new EvmeshError('EVM_BAD_REQUEST', `at most ${MAX_STRUCTURES} structures`);
    // Each side mutates its own copy (msgpackr hangs transition tables on it). maxSharedStructures
    // = exactly the agreed count, so a new shape never becomes "shared" unannounced.
    const common = { useRecords: true, mapsAsObjects: true, maxSharedStructures: all.length, maxOwnStructures: 64 - all.length, shouldShareStructure: () => false } as const;
    this.packr = new Packr({ ...common, structures: all.map((s) => [...s]) });
    this.unpackr = new Unpackr({ ...common, structures: all.map((s) => [...s]) });
  }

  /** The msgpack bytes of `value`: a view into the codec's buffer, valid until the next call. */
  encode(value: unknown): Uint8Array {
    return this.packr.pack(value);
  }

  /** Decodes one header; anything malformed (or trailing bytes) → EVM_BAD_FRAME. An empty
   *  header is `undefined`. */
  decode(bytes: Uint8Array): unknown {
    if (bytes.length === 0) return undefined;
    try {
      return this.unpackr.unpack(bytes);
    } catch (err) {
      throw new EvmeshError('EVM_BAD_FRAME', `malformed frame header: ${err instanceof Error ? err.message.slice(0, 120) : String(err)}`);
    }
  }
}
