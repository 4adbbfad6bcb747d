// The CloudEvents Kafka protocol binding, binary content mode (CloudEvents "Kafka Protocol
// Binding" §3.2): an evmesh event (core/codec.ts bytes) ↔ one Kafka message whose value is the
// event data, whose `content-type` header is `datacontenttype`, whose other attributes are
// `ce_<name>` headers (UTF-8 strings), and whose key is the partition key (§3.1 "Key Mapping":
// the `partitionkey` extension, else the subject as partitionKeyOf chooses it).
// Pure, no I/O. Exactness: storage must return the appended bytes unchanged, so
//  - non-string attribute values (CloudEvents Integer, Boolean) are strings in `ce_` headers as the
//    binding says, and their types travel in one extra `evmesh_types` header ("name:i,name:b");
//  - values that are not a canonically encoded event (event-scan.ts says which are; storage is
//    opaque and the conformance suite appends arbitrary bytes) are stored as they are, with no
//    `ce_` headers, and read back as such;
//  - header order is attribute order, so re-encoding yields the same bytes.
// A message without `ce_specversion` (written by another Kafka client) is read back as its raw
// value; a subscriber then sees it as undecodable (core counts corruptEvents).
import { Buffer } from 'node:buffer';
import { encodeEvent } from '../../core/codec.js';
import { isAttributeName } from '../../core/event.js';
import type { AttrValue } from '../../core/types.js';
import { arrayIndex, EventScan } from './event-scan.js';

export type Header = Record<string, string | Buffer>;

export interface KafkaRecord {
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Header[] | undefined;
}

const CE = 'ce_';
const CONTENT_TYPE = 'content-type';
export const TYPES_HEADER = 'evmesh_types';
/** evmesh_types letters besides 'i' (integer); event-scan.ts writes them. */
const FLOAT = 'f', BOOL = 'b';

/** `ce_<name>` header keys, one string per attribute name, reused: a header object built as
 *  `{ [CE + name]: v }` cost ~850 ns per 4-attribute event, one given a reused key by assignment
 *  ~160 ns (Node 20, mb of toKafka's loop). Bounded, since names come from clients. */
const ceKeys = new Map<string, string>();
const MAX_CE_KEYS = 1024;

function ceKey(name: string): string {
  let key = ceKeys.get(name);
  if (key === undefined) {
    key = CE + name;
    if (ceKeys.size < MAX_CE_KEYS) ceKeys.set(name, key);
  }
  return key;
}

function header(key: string, value: string): Header {
  const h: Header = {};
  h[key] = value;
  return h;
}

const asBuffer = (v: Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

/** The Kafka message for one stored value of `topic`. */
export function toKafka(topic: string, value: Uint8Array): KafkaRecord {
  return EventScan.looksLikeEvent(value) ? scanned(topic, new EventScan(value)) ?? raw(value) : raw(value);
}

const raw = (value: Uint8Array): KafkaRecord => ({ key: null, value: asBuffer(value), headers: undefined });

/** The binary-mode record of a canonically encoded event (event-scan.ts), else undefined. Headers
 *  in attribute order; key = the partition key as partitionKeyOf chooses it. */
function scanned(topic: string, s: EventScan): KafkaRecord | undefined {
  const count = s.varint();
  if (count < 0 || count > s.buf.length) return undefined;
  const headers: Header[] = [];
  const names: string[] = [];
  let types = '', key: string | null = null, subject: string | undefined, lastIndex = -1, named = false;
  for (let i = 0; i < count; i++) {
    const name = s.name();
    if (name === undefined || name === 'data' || names.includes(name) || !s.value()) return undefined;
    const index = arrayIndex(name);
    if (index < 0) named = true;
    else if (named || index <= lastIndex) return undefined;
    else lastIndex = index;
    names.push(name);
    const v = s.text;
    if (s.type === undefined) {
      if (name === 'datacontenttype') { headers.push(header(CONTENT_TYPE, v)); continue; }
      if (name === 'subject') subject = v;
    } else {
      types += `${types ? ',' : ''}${name}:${s.type}`;
    }
    if (name === 'partitionkey') key = v;
    headers.push(header(ceKey(name), v));
  }
  const data = s.data();
  // fromKafka reads a message as an event only by its ce_specversion header.
  if (data === undefined || !names.includes('specversion')) return undefined;
  if (types) headers.push(header(TYPES_HEADER, types));
  return { key: key ?? (subject !== undefined && subject !== topic ? subject : null), value: data, headers };
}

function typed(s: string, t: string | undefined): AttrValue | undefined {
  if (t === undefined) return s;
  if (t === BOOL) return s === 'true' ? true : s === 'false' ? false : undefined;
  const n = Number(s);
  return Number.isFinite(n) && (t === FLOAT || Number.isInteger(n)) ? n : undefined;
}

/** The stored value (core/codec.ts bytes, or the raw value) of a consumed Kafka message. */
export function fromKafka(value: Buffer | null | undefined, headers: Header[] | undefined): Uint8Array {
  const raw = value ?? Buffer.alloc(0);
  if (!headers || headers.length === 0) return raw;
  let isEvent = false;
  let types: Map<string, string> | undefined;
  for (const h of headers) {
    for (const k in h) {
      if (k === CE + 'specversion') isEvent = true;
      else if (k === TYPES_HEADER) {
        types = new Map();
        for (const pair of String(h[k]).split(',')) { const i = pair.indexOf(':'); types.set(pair.slice(0, i), pair.slice(i + 1)); }
      }
    }
  }
  if (!isEvent) return raw;
  const attributes: Record<string, AttrValue> = {};
  for (const h of headers) {
    for (const k in h) {
      const s = String(h[k]);
      if (k === CONTENT_TYPE) { attributes.datacontenttype = s; continue; }
      if (!k.startsWith(CE)) continue;
      const name = k.slice(CE.length);
      if (!isAttributeName(name) || name === 'data' || name === 'data_base64') continue;
      const v = typed(s, types?.get(name));
      if (v !== undefined) attributes[name] = v;
    }
  }
  return encodeEvent(value === null || value === undefined ? { attributes } : { attributes, data: value });
}
