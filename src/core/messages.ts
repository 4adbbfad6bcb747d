// Node-to-node messages of the core protocol (pure, binary). Byte 0 is the message type; a
// change of any layout gets a new type byte. Strings that repeat inside one message (topic,
// group, member id) are written once and back-referenced (bytes.ts `ref`). Grammar per type in
// docs/core.md "Mesh messages".
import { EvmeshError, isErrorCode, type WireError } from '../errors.js';
import { ByteReader, ByteWriter, corrupt } from './bytes.js';
import type { GroupMode, StartPosition } from './types.js';

export const MSG = {
  PUBLISH: 1,
  PUBLISH_ACK: 2,
  TOPIC_REQUEST: 3,
  TOPIC_META: 4,
  JOIN: 5,
  LEAVE: 6,
  MEMBER_ACK: 7,
  DELIVER: 8,
  /** 9 was ACK of single offsets (retired); 12 acks runs of offsets. */
  ACK: 12,
  REJECT: 10,
  REPLY: 11,
} as const;

/** TOPIC_REQUEST modes. */
export const TOPIC_LOOKUP = 0, TOPIC_AUTO = 1, TOPIC_CREATE = 2, TOPIC_ALL = 3, TOPIC_ENSURE = 4;
export type TopicRequestMode = typeof TOPIC_LOOKUP | typeof TOPIC_AUTO | typeof TOPIC_CREATE | typeof TOPIC_ALL | typeof TOPIC_ENSURE;

export interface WireTopicMeta { name: string; partitions: number; createdAt: number }

export interface MemberSpec {
  memberId: string;
  topic: string;
  group: string;
  mode: GroupMode;
  from: StartPosition;
  replay: boolean;
  maxInflight: number;
  ackTimeoutMs: number;
  maxAttempts: number;
  /** Node whose client owns the member (deliveries go there). */
  home: number;
}

export interface DeliverItem { topic: string; partition: number; offset: number; attempt: number; event: Uint8Array }
/** Acks offsets [offset, offset + count) of one partition for one member. */
export interface AckItem { memberId: string; topic: string; group: string; partition: number; offset: number; count: number }
export interface RejectItem { topic: string; partition: number; offset: number }

export type Message =
  | { type: typeof MSG.PUBLISH; id: number; topic: string; partition: number; events: Uint8Array[] }
  | { type: typeof MSG.PUBLISH_ACK; id: number; baseOffset: number; error?: WireError | undefined }
  | { type: typeof MSG.TOPIC_REQUEST; id: number; name: string; mode: TopicRequestMode; partitions: number }
  | { type: typeof MSG.TOPIC_META; id: number; metas: WireTopicMeta[]; error?: WireError | undefined }
  | { type: typeof MSG.JOIN; member: MemberSpec }
  | { type: typeof MSG.LEAVE; memberId: string; topic: string; group: string }
  | { type: typeof MSG.MEMBER_ACK; memberId: string; join: boolean; error?: WireError | undefined }
  | { type: typeof MSG.DELIVER; memberId: string; items: DeliverItem[] }
  | { type: typeof MSG.ACK; items: AckItem[] }
  | { type: typeof MSG.REJECT; memberId: string; items: RejectItem[] }
  | { type: typeof MSG.REPLY; correlationId: string; event: Uint8Array };

const MODES: readonly GroupMode[] = ['CLUSTERING', 'BROADCASTING'];

function writeError(w: ByteWriter, e: WireError | undefined): void {
  if (!e) { w.u8(0); return; }
  w.u8(1);
  w.str(e.code);
  w.str(e.message);
}

function readError(r: ByteReader): WireError | undefined {
  const flag = r.u8();
  if (flag === 0) return undefined;
  if (flag !== 1) throw corrupt('error flag');
  const code = r.str();
  const message = r.str();
  return { code: isErrorCode(code) ? code : 'EVM_INTERNAL', message };
}

function writeStart(w: ByteWriter, s: StartPosition): void {
  if (s === 'latest') w.u8(0);
  else if (s === 'earliest') w.u8(1);
  else if ('offset' in s) { w.u8(2); w.varint(s.offset); }
  else { w.u8(3); w.f64(s.timestamp); }
}

function readStart(r: ByteReader): StartPosition {
  switch (r.u8()) {
    case 0: return 'latest';
    case 1: return 'earliest';
    case 2: return { offset: r.varint() };
    case 3: return { timestamp: r.f64() };
    default: throw corrupt('start position tag');
  }
}

/** A reused writer keeps at most this much memory between messages. */
const KEEP_WRITER_BYTES = 1 << 20;

/** Encodes `m`. With `into`, the message is written into that reused writer and the result is a
 *  view of its buffer, valid until the next encode into it (Core sends it at once: Mesh.send
 *  copies). Without, into a fresh buffer. */
export function encodeMessage(m: Message, into?: ByteWriter): Uint8Array {
  let size = 64;
  if (m.type === MSG.PUBLISH) for (const e of m.events) size += e.length + 4;
  else if (m.type === MSG.DELIVER) for (const it of m.items) size += it.event.length + 16;
  else if (m.type === MSG.REPLY) size += m.event.length;
  let w: ByteWriter;
  if (into !== undefined) { w = into; w.reset(size, KEEP_WRITER_BYTES); } else w = new ByteWriter(size);
  w.u8(m.type);
  switch (m.type) {
    case MSG.PUBLISH:
      w.varint(m.id); w.str(m.topic); w.varint(m.partition); w.varint(m.events.length);
      for (const e of m.events) w.bytes(e);
      break;
    case MSG.PUBLISH_ACK:
      w.varint(m.id); w.varint(m.baseOffset); writeError(w, m.error);
      break;
    case MSG.TOPIC_REQUEST:
      w.varint(m.id); w.str(m.name); w.u8(m.mode); w.varint(m.partitions);
      break;
    case MSG.TOPIC_META:
      w.varint(m.id); writeError(w, m.error); w.varint(m.metas.length);
      for (const t of m.metas) { w.str(t.name); w.varint(t.partitions); w.f64(t.createdAt); }
      break;
    case MSG.JOIN: {
      const s = m.member;
      w.str(s.memberId); w.str(s.topic); w.str(s.group); w.u8(MODES.indexOf(s.mode)); writeStart(w, s.from);
      w.u8(s.replay ? 1 : 0); w.varint(s.maxInflight); w.varint(s.ackTimeoutMs); w.varint(s.maxAttempts); w.varint(s.home);
      break;
    }
    case MSG.LEAVE:
      w.str(m.memberId); w.str(m.topic); w.str(m.group);
      break;
    case MSG.MEMBER_ACK:
      w.str(m.memberId); w.u8(m.join ? 1 : 0); writeError(w, m.error);
      break;
    case MSG.DELIVER:
      w.str(m.memberId); w.varint(m.items.length);
      for (const it of m.items) { w.ref(it.topic); w.varint(it.partition); w.varint(it.offset); w.varint(it.attempt); w.bytes(it.event); }
      break;
    case MSG.ACK:
      w.varint(m.items.length);
      for (const it of m.items) { w.ref(it.memberId); w.ref(it.topic); w.ref(it.group); w.varint(it.partition); w.varint(it.offset); w.varint(it.count); }
      break;
    case MSG.REJECT:
      w.str(m.memberId); w.varint(m.items.length);
      for (const it of m.items) { w.ref(it.topic); w.varint(it.partition); w.varint(it.offset); }
      break;
    case MSG.REPLY:
      w.str(m.correlationId); w.bytes(m.event);
      break;
    default:
      throw new EvmeshError('EVM_INTERNAL', `unknown message type ${(m as { type: number }).type}`);
  }
  return w.finish();
}

/** Most bytes the PUBLISH header (type, id, topic, partition, n) takes for `topic` (topic names
 *  are ASCII, TOPIC_NAME): 1 + 8 + (5 + length) + 8 + 8. */
export function publishHeaderRoom(topic: string): number {
  return 30 + topic.length;
}

/** Writes the PUBLISH header right-aligned so that it ends at `end` in `buf` and returns where it
 *  starts. The publisher encodes a batch's `n × event:bytes` body after a reserved gap of
 *  publishHeaderRoom(topic) bytes and fills the header in when it sends, so the message is one
 *  buffer and no event is copied again (same grammar as encodeMessage). */
export function writePublishHeader(buf: Uint8Array, end: number, id: number, topic: string, partition: number, n: number): number {
  const w = new ByteWriter(publishHeaderRoom(topic));
  w.u8(MSG.PUBLISH); w.varint(id); w.str(topic); w.varint(partition); w.varint(n);
  const start = end - w.pos;
  if (start < 0) throw new EvmeshError('EVM_INTERNAL', 'PUBLISH header does not fit its reserved room');
  buf.set(w.buf.subarray(0, w.pos), start);
  return start;
}

/** Bounded count: a count can never exceed the bytes left (every item takes >= 1 byte). */
function count(r: ByteReader): number {
  const n = r.varint();
  if (n > r.remaining) throw corrupt('item count');
  return n;
}

/** Decodes one message. Event bytes in PUBLISH/DELIVER/REPLY are views into `bytes`. Malformed
 *  input throws EVM_CORRUPT. */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new ByteReader(bytes);
  const type = r.u8();
  let m: Message;
  switch (type) {
    case MSG.PUBLISH: {
      const id = r.varint(), topic = r.str(), partition = r.varint(), n = count(r);
      const events: Uint8Array[] = new Array(n);
      for (let i = 0; i < n; i++) events[i] = r.bytes();
      m = { type, id, topic, partition, events };
      break;
    }
    case MSG.PUBLISH_ACK: {
      const id = r.varint(), baseOffset = r.varint(), error = readError(r);
      m = error ? { type, id, baseOffset, error } : { type, id, baseOffset };
      break;
    }
    case MSG.TOPIC_REQUEST: {
      const id = r.varint(), name = r.str(), mode = r.u8();
      if (mode > TOPIC_ENSURE) throw corrupt('topic request mode');
      m = { type, id, name, mode: mode as TopicRequestMode, partitions: r.varint() };
      break;
    }
    case MSG.TOPIC_META: {
      const id = r.varint(), error = readError(r), n = count(r);
      const metas: WireTopicMeta[] = [];
      for (let i = 0; i < n; i++) metas.push({ name: r.str(), partitions: r.varint(), createdAt: r.f64() });
      m = error ? { type, id, metas, error } : { type, id, metas };
      break;
    }
    case MSG.JOIN: {
      const memberId = r.str(), topic = r.str(), group = r.str();
      const mode = MODES[r.u8()];
      if (!mode) throw corrupt('group mode');
      const from = readStart(r), replay = r.u8() === 1;
      m = { type, member: { memberId, topic, group, mode, from, replay, maxInflight: r.varint(), ackTimeoutMs: r.varint(), maxAttempts: r.varint(), home: r.varint() } };
      break;
    }
    case MSG.LEAVE:
      m = { type, memberId: r.str(), topic: r.str(), group: r.str() };
      break;
    case MSG.MEMBER_ACK: {
      const memberId = r.str(), join = r.u8() === 1, error = readError(r);
      m = error ? { type, memberId, join, error } : { type, memberId, join };
      break;
    }
    case MSG.DELIVER: {
      const memberId = r.str(), n = count(r);
      const items: DeliverItem[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = { topic: r.ref(), partition: r.varint(), offset: r.varint(), attempt: r.varint(), event: r.bytes() };
      m = { type, memberId, items };
      break;
    }
    case MSG.ACK: {
      const n = count(r);
      const items: AckItem[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = { memberId: r.ref(), topic: r.ref(), group: r.ref(), partition: r.varint(), offset: r.varint(), count: r.varint() };
      m = { type, items };
      break;
    }
    case MSG.REJECT: {
      const memberId = r.str(), n = count(r);
      const items: RejectItem[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = { topic: r.ref(), partition: r.varint(), offset: r.varint() };
      m = { type, memberId, items };
      break;
    }
    case MSG.REPLY:
      m = { type, correlationId: r.str(), event: r.bytes() };
      break;
    default:
      throw corrupt(`unknown message type ${type}`);
  }
  r.end();
  return m;
}
