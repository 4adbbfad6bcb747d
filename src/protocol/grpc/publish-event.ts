// The CloudEvents of publish requests (spec G4) read in one pass into what publishing needs: the
// core event (G6) exactly as toMeshEvent(decodeCloudEvent(bytes)) makes it, and the ce_string
// attributes the G9 checks read — without the PbCloudEvent of the two steps, which is an object
// per attribute built to be dropped. Frame errors throw EVM_BAD_FRAME as codec.ts does; errors of
// the conversion are kept and reported after the G9 checks, as toMeshEvent's would be.
import { isUtf8 } from 'node:buffer';
import { EvmeshError } from '../../errors.js';
import type { AttrValue, MeshEvent } from '../../core/types.js';
import { readUtf8 } from '../../core/bytes.js';
import { LEN, Reader, readAny, readTimestamp, VARINT } from './codec.js';
import { anyBytes, SKIP_INBOUND, timestampToIso, type PbAny, type PbTimestamp } from './cloudevent.js';
import { CHECKED_KEYS, type Checkable } from './checks.js';

/** Bit i of PublishEvent's `strings`: the value of CHECKED_KEYS[i] is a ce_string. */
const SLOT = new Map(CHECKED_KEYS.map((k, i) => [k, i]));
/** The credentials are checked (G9) but never stored. */
const PASSWD = SLOT.get('passwd')!;

export class PublishEvent implements Checkable {
  constructor(
    private readonly attributes: Readonly<Record<string, AttrValue>>,
    private readonly strings: number,
    private readonly passwd: string | undefined,
    readonly data: Checkable['data'],
    /** The core event, or (event undefined) what its conversion threw. */
    readonly event: MeshEvent | undefined,
    readonly error: unknown,
  ) {}

  /** Only the attributes of CHECKED_KEYS are known here. */
  ceString(key: string): string | undefined {
    const i = SLOT.get(key);
    if (i === undefined || (this.strings & (1 << i)) === 0) return undefined;
    return i === PASSWD ? this.passwd : (this.attributes[key] as string);
  }
}

/** A map value that did not convert: toMeshEvent throws this when it reaches the key. */
class Unconvertible {
  constructor(readonly error: unknown) {}
}

const noValue = (key: string): Unconvertible =>
  new Unconvertible(new EvmeshError('EVM_BAD_EVENT', `attribute ${JSON.stringify(key)} has no value`, { attribute: key }));

/** The oneof member of the last CloudEventAttributeValue read (0: none). */
let member = 0;

/** A CloudEventAttributeValue as core keeps it (toMeshEvent's attrValue), undefined without a
 *  member; the last member set wins. Members are read in place as readAttr does (a malformed one
 *  throws even when a later one replaces it); only the last is converted. */
function readValue(r: Reader, end: number): AttrValue | Unconvertible | undefined {
  let field = 0, start = 0, stop = 0, num = 0;
  let ts: PbTimestamp | undefined;
  while (r.pos < end) {
    const tag = r.varint(end), f = Math.floor(tag / 8), wire = tag & 7;
    if (f >= 3 && f <= 6 && wire === LEN) { stop = r.len(end); start = r.pos; r.pos = stop; field = f; }
    else if (f === 7 && wire === LEN) { const e = r.len(end); ts = readTimestamp(r, e); field = 7; }
    else if (f === 2 && wire === VARINT) { num = r.int32(end); field = 2; }
    else if (f === 1 && wire === VARINT) { num = r.varint(end); field = 1; }
    else r.skip(wire, end);
  }
  member = field;
  switch (field) {
    case 3: case 5: case 6: return readUtf8(r.buf, start, stop);
    case 2: return num;
    case 1: return num !== 0;
    case 4: return r.buf.toString('base64', start, stop);
    case 7:
      try { return timestampToIso(ts!); } catch (err) { return new Unconvertible(err); }
    default: return undefined;
  }
}

// The event being read (decoding is synchronous): its map entries in order (the stored ones),
// which CHECKED_KEYS hold a ce_string, the credentials, whether a value did not convert.
const keys: string[] = [], values: (AttrValue | Unconvertible)[] = [];
let count = 0, strings = 0, passwd: string | undefined, unconvertible = false;

/** One map entry (toMeshEvent's rules: fields' copies and credentials are not stored). */
function readEntry(r: Reader, end: number): void {
  let key = '', value: AttrValue | Unconvertible | undefined;
  member = 0;
  while (r.pos < end) {
    const tag = r.varint(end), f = Math.floor(tag / 8), wire = tag & 7;
    if (f === 1 && wire === LEN) key = r.string(end);
    else if (f === 2 && wire === LEN) { const e = r.len(end); value = readValue(r, e); }
    else r.skip(wire, end);
  }
  value ??= noValue(key);
  const slot = SLOT.get(key);
  if (slot !== undefined) strings = member === 3 ? strings | (1 << slot) : strings & ~(1 << slot);
  if (slot === PASSWD) passwd = member === 3 ? (value as string) : undefined;
  if (SKIP_INBOUND.has(key)) return;
  if (key === '__proto__') value = new Unconvertible(new EvmeshError('EVM_BAD_EVENT', 'attribute "__proto__": name must be 1-255 characters of [a-z0-9]', { attribute: key }));
  if (value instanceof Unconvertible) unconvertible = true;
  keys[count] = key;
  values[count++] = value;
}

/** The attribute object of the last event read whose keys came in the order of `templateKeys`:
 *  events of one producer repeat their keys, and a spread copy of this object (V8 fast mode)
 *  with the values stored over it is much cheaper than a new object, which keyed stores turn
 *  into a hash table past ~20 attributes and which then needs a spread copy itself. */
let template: Record<string, unknown> | undefined, templateKeys: string[] = [];

/** toMeshEvent's attribute object: the fields first, then the map's keys (the last value of a
 *  repeated key). */
function attributesOf(id: string, source: string, type: string): Record<string, unknown> {
  let same = template !== undefined && !unconvertible && templateKeys.length === count;
  for (let i = 0; same && i < count; i++) same = keys[i] === templateKeys[i];
  if (same) {
    const attrs = { ...template };
    attrs.id = id;
    attrs.source = source;
    attrs.type = type;
    for (let i = 0; i < count; i++) attrs[keys[i]!] = values[i];
    return attrs;
  }
  const built: Record<string, unknown> = { specversion: '1.0', id, source, type };
  for (let i = 0; i < count; i++) {
    const key = keys[i]!;
    // "__proto__" must stay an own (bad) attribute, not the object's prototype.
    if (key === '__proto__') Object.defineProperty(built, key, { value: values[i], enumerable: true, writable: true, configurable: true });
    else built[key] = values[i];
  }
  if (unconvertible) return built;
  // Kept apart from the objects handed out, which their users could change.
  template = { ...built };
  templateKeys = keys.slice(0, count);
  return { ...template };
}

/** text_data as toMeshEvent stores it: Buffer.from(the decoded string). Valid UTF-8 without a
 *  byte order mark (which the decoder drops) is those very bytes, kept as a view. */
function textBytes(buf: Buffer, start: number, stop: number): Buffer {
  const view = buf.subarray(start, stop);
  if (isUtf8(view) && !(view[0] === 0xef && view[1] === 0xbb && view[2] === 0xbf)) return view;
  return Buffer.from(readUtf8(buf, start, stop), 'utf8');
}

function readEvent(r: Reader, end: number): PublishEvent {
  let spec: string | undefined, id = '', source = '', type = '';
  count = 0;
  strings = 0;
  passwd = undefined;
  unconvertible = false;
  let dataField = 0, start = 0, stop = 0;
  let any: PbAny | undefined;
  while (r.pos < end) {
    const tag = r.varint(end), field = Math.floor(tag / 8), wire = tag & 7;
    if (wire !== LEN || field < 1 || field > 8) { r.skip(wire, end); continue; }
    switch (field) {
      case 1: id = r.string(end); break;
      case 2: source = r.string(end); break;
      case 3: spec = r.string(end); break;
      case 4: type = r.string(end); break;
      case 5: { const e = r.len(end); readEntry(r, e); break; }
      // oneof data: the last member set wins.
      case 6: case 7: stop = r.len(end); start = r.pos; r.pos = stop; dataField = field; break;
      case 8: { const e = r.len(end); any = readAny(r, e); dataField = 8; break; }
    }
  }
  let data: Uint8Array | undefined, kind: Checkable['data'];
  if (dataField === 6) { data = r.buf.subarray(start, stop); kind = stop > start ? 'binary' : undefined; }
  else if (dataField === 7) { data = textBytes(r.buf, start, stop); kind = data.length > 0 ? 'text' : undefined; }
  else if (dataField === 8) { data = anyBytes(any!); kind = 'proto'; }
  const attrs = attributesOf(id, source, type);
  const error = conversionError(spec, attrs);
  let event: MeshEvent | undefined;
  if (error === undefined) {
    const attributes = attrs as Record<string, AttrValue>;
    event = data === undefined ? { attributes } : { attributes, data };
  }
  return new PublishEvent(attrs as Record<string, AttrValue>, strings, passwd, kind, event, error);
}

/** toMeshEvent's first error: the spec version, then the first unconvertible attribute. */
function conversionError(spec: string | undefined, attrs: Record<string, unknown>): unknown {
  if (spec !== '1.0') {
    return new EvmeshError('EVM_BAD_EVENT', `attribute "specversion": must be "1.0", got ${JSON.stringify(spec ?? '')}`, { attribute: 'specversion' });
  }
  if (unconvertible) for (const key of Object.keys(attrs)) { const v = attrs[key]; if (v instanceof Unconvertible) return v.error; }
  return undefined;
}

export function decodePublishEvent(buf: Buffer): PublishEvent {
  return readEvent(new Reader(buf), buf.length);
}

export function decodePublishBatch(buf: Buffer): { events: PublishEvent[] } {
  const r = new Reader(buf), end = buf.length;
  const events: PublishEvent[] = [];
  while (r.pos < end) {
    const tag = r.varint(end), field = Math.floor(tag / 8), wire = tag & 7;
    if (field === 1 && wire === LEN) { const e = r.len(end); events.push(readEvent(r, e)); } else r.skip(wire, end);
  }
  return { events };
}
