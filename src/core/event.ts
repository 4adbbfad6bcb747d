// CloudEvents 1.0 validation and normalisation of a MeshEvent (CloudEvents spec 1.0 §3 "Context
// Attributes" and §"Type System").
//
// Hot path: the checks the spec makes REQUIRED (specversion "1.0"; id, source, type non-empty
// strings; attribute names [a-z0-9]; value types) are done inline here. The format checks of the
// optional attributes and of `source` (uri-reference, dataschema uri, time RFC 3339) use the
// `cloudevents` package's compiled JSON-schema validator, which costs ~0.4 µs/event (0.8 µs with
// `time`). Constructing `new CloudEvent(...)` costs ~5.8 µs/event (it copies the event and
// base64-encodes binary data), so it is never used on the hot path. Numbers: docs/core.md.
import v1Schema from 'cloudevents/dist/schema/v1.js';
import { EvmeshError } from '../errors.js';
import type { AttrValue, MeshEvent } from './types.js';

/** Attribute names the spec reserves for the JSON event format's payload members. */
const RESERVED = new Set(['data', 'data_base64']);
/** Spec-defined context attributes: all String/URI-reference/URI/Timestamp, i.e. strings. */
const SPEC_STRING_ATTRS = new Set(['specversion', 'id', 'source', 'type', 'datacontenttype', 'dataschema', 'subject', 'time']);
/** The codec stores a name's length in one byte; the spec only advises <= 20 characters. */
export const MAX_ATTRIBUTE_NAME = 255;
const INT32_MIN = -2147483648, INT32_MAX = 2147483647;
/** Optional spec attributes whose format only the schema checks. */
const FORMAT_ATTRS = ['time', 'dataschema'] as const;
const NONEMPTY_ATTRS = ['datacontenttype', 'subject'] as const;
/** `source` values that already passed the schema (producers reuse a handful): skipping the
 *  schema for events with no other formatted attribute saves ~0.4 µs/event. Bounded. */
const validSources = new Set<string>();
const MAX_CACHED_SOURCES = 1024;

function bad(attr: string, why: string): EvmeshError {
  return new EvmeshError('EVM_BAD_EVENT', `attribute ${JSON.stringify(attr)}: ${why}`, { attribute: attr });
}

/** True when `name` is a legal CloudEvents attribute name: 1+ of [a-z0-9] (spec §3 "Attribute Naming Convention"). */
export function isAttributeName(name: string): boolean {
  const n = name.length;
  if (n === 0 || n > MAX_ATTRIBUTE_NAME) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) return false;
  }
  return true;
}

function requireString(attrs: Record<string, unknown>, name: string): void {
  const v = attrs[name];
  if (v === undefined || v === null) throw bad(name, 'is required');
  if (typeof v !== 'string') throw bad(name, `must be a string, got ${typeof v}`);
  if (v.length === 0) throw bad(name, 'must not be empty');
}

/**
 * Validates `ev` as a CloudEvent 1.0 and returns it normalised: attributes whose value is
 * `null`/`undefined` are dropped (absent), everything else is kept exactly (name, value, JSON type).
 * Throws EVM_BAD_EVENT naming the offending attribute.
 */
export function validateEvent(ev: unknown): MeshEvent {
  if (ev === null || typeof ev !== 'object') throw new EvmeshError('EVM_BAD_EVENT', 'event must be an object { attributes, data? }');
  const { attributes, data } = ev as { attributes?: unknown; data?: unknown };
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw new EvmeshError('EVM_BAD_EVENT', 'event.attributes must be an object');
  }
  if (data !== undefined && !(data instanceof Uint8Array)) throw bad('data', 'must be a Uint8Array or absent');
  const attrs = attributes as Record<string, unknown>;
  if (attrs.specversion !== '1.0') {
    if (attrs.specversion === undefined) throw bad('specversion', 'is required');
    throw bad('specversion', `must be "1.0", got ${JSON.stringify(attrs.specversion)}`);
  }
  requireString(attrs, 'id');
  requireString(attrs, 'source');
  requireString(attrs, 'type');
  let dropped = false;
  for (const name in attrs) {
    const v = attrs[name];
    if (v === undefined || v === null) { dropped = true; continue; }
    if (!isAttributeName(name)) throw bad(name, 'name must be 1-255 characters of [a-z0-9]');
    if (RESERVED.has(name)) throw bad(name, 'name is reserved for the event payload');
    switch (typeof v) {
      case 'string': break;
      case 'boolean':
      case 'number':
        if (SPEC_STRING_ATTRS.has(name)) throw bad(name, `must be a string, got ${typeof v}`);
        // CloudEvents Integer: a whole number in the signed 32-bit range (spec "Type System").
        if (typeof v === 'number' && (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX)) {
          throw bad(name, `number ${v} is not a CloudEvents Integer (signed 32-bit whole number)`);
        }
        break;
      default:
        throw bad(name, `value must be a string, number or boolean, got ${typeof v}`);
    }
  }
  let out: Record<string, AttrValue> = attrs as Record<string, AttrValue>;
  if (dropped) {
    out = {};
    for (const name in attrs) { const v = attrs[name]; if (v !== undefined && v !== null) out[name] = v as AttrValue; }
  }
  // Formats (source uri-reference, dataschema uri, time date-time, non-empty optional strings).
  // `datacontenttype` and `subject` (strings, checked above) only need to be non-empty, so the
  // schema runs for them only when they are empty (it words the error); EventMesh TCP events all
  // carry a subject (T42), and running the schema for it was ~1 µs/event (docs/core.md).
  let needSchema = !validSources.has(out.source as string);
  for (let i = 0; i < FORMAT_ATTRS.length && !needSchema; i++) if (out[FORMAT_ATTRS[i]!] !== undefined) needSchema = true;
  for (let i = 0; i < NONEMPTY_ATTRS.length && !needSchema; i++) if (out[NONEMPTY_ATTRS[i]!] === '') needSchema = true;
  if (needSchema) checkSchema(out);
  return dropped ? { attributes: out, data: data as Uint8Array | undefined } : (ev as MeshEvent);
}

function checkSchema(out: Record<string, AttrValue>): void {
  if (!v1Schema(out)) {
    const err = (v1Schema as unknown as { errors?: { instancePath?: string; message?: string }[] }).errors?.[0];
    const attr = err?.instancePath?.replace(/^\//, '') || 'event';
    throw bad(attr, `invalid per the CloudEvents 1.0 schema: ${err?.message ?? 'invalid'}`);
  }
  if (validSources.size >= MAX_CACHED_SOURCES) validSources.clear();
  validSources.add(out.source as string);
}

/** Copy of `ev` with `extra` attributes set (overriding existing ones of the same name). */
export function withAttributes(ev: MeshEvent, extra: Record<string, AttrValue>): MeshEvent {
  return { attributes: { ...ev.attributes, ...extra }, data: ev.data };
}
