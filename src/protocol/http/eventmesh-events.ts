// EventMesh HTTP message fields → MeshEvent (spec H9, H11, H12): the `eventmeshmessage` and
// `cloudevents` protocol types, and the identity headers copied into extensions (H5, H9).
// Unlike upstream, absent identity fields are simply not copied (H5 pitfall: upstream then sends
// no answer at all) and every failure is answered with a retCode.
import { EvmeshError } from '../../errors.js';
import type { AttrValue, MeshEvent } from '../../core/types.js';
import { fromStructuredJson } from '../cloudevents-json.js';

/** Headers copied into extensions (H9; `username`/`passwd` are not stored: credentials). */
const HEADER_EXTENSIONS = ['env', 'idc', 'pid', 'sys', 'version', 'language', 'protocoltype', 'protocoldesc', 'protocolversion'] as const;

/** H5/H13: idc, pid (numeric) and sys are required on send/subscribe/heartbeat → retCode 6. */
export function checkIdentity(headers: Readonly<Record<string, string>>): void {
  for (const h of ['idc', 'sys', 'pid'] as const) {
    if ((headers[h] ?? '').trim() === '') throw new EvmeshError('EVM_BAD_EVENT', `header ${h} is required (H5)`);
  }
  if (!/^\d+$/.test(headers.pid!.trim())) throw new EvmeshError('EVM_BAD_EVENT', `header pid must be numeric, got ${JSON.stringify(headers.pid)} (H5)`);
}

export interface MessageFields {
  readonly topic: string | undefined;
  readonly content: string | undefined;
  readonly bizseqno: string | undefined;
  readonly uniqueid: string | undefined;
  readonly producergroup: string | undefined;
  readonly ttl: string | undefined;
  readonly tag: string | undefined;
  readonly extFields: string | undefined;
}

function isBlank(s: string | undefined): boolean {
  return s === undefined || s.trim() === '';
}

function parseExtFields(raw: string | undefined): Record<string, string> {
  if (isBlank(raw)) return {};
  let o: unknown;
  try { o = JSON.parse(raw!); } catch { throw new EvmeshError('EVM_BAD_REQUEST', 'extFields is not JSON (H9)'); }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new EvmeshError('EVM_BAD_REQUEST', 'extFields must be a JSON object (H9)');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** One event of a message code. `remote` is the peer ip:port (H5: `ip` is overwritten). */
export function messageEvent(headers: Readonly<Record<string, string>>, f: MessageFields, remote: string): { topic: string; event: MeshEvent } {
  const protocolType = headers.protocoltype || 'eventmeshmessage';
  const pv = headers.protocolversion || '1.0';
  if (pv !== '1.0') throw new EvmeshError('EVM_BAD_EVENT', `protocolversion ${JSON.stringify(pv)} is not supported (CloudEvents 1.0 only)`);
  const attributes: Record<string, AttrValue> = {};
  let data: Uint8Array | undefined;
  if (protocolType === 'cloudevents') {
    if (isBlank(f.content)) throw new EvmeshError('EVM_BAD_REQUEST', 'content (a CloudEvents JSON document) is required (H9)');
    let json: unknown;
    try { json = JSON.parse(f.content!); } catch { throw new EvmeshError('EVM_BAD_EVENT', 'content is not CloudEvents JSON (H9)'); }
    const ev = fromStructuredJson(json);
    Object.assign(attributes, ev.attributes);
    data = ev.data;
  } else if (protocolType === 'eventmeshmessage') {
    if (isBlank(f.bizseqno)) throw new EvmeshError('EVM_BAD_EVENT', 'bizseqno is required: it is the event id (H9)');
    if (f.content === undefined) throw new EvmeshError('EVM_BAD_REQUEST', 'content is required (H9)');
    Object.assign(attributes, { specversion: '1.0', id: f.bizseqno!, source: '/', type: 'eventmeshmessage' });
    if (!isBlank(f.topic)) attributes.subject = f.topic!;
    for (const [k, v] of Object.entries(parseExtFields(f.extFields))) if (!(k in attributes)) attributes[k] = v;
    data = Buffer.from(f.content, 'utf8');
  } else {
    throw new EvmeshError('EVM_UNSUPPORTED', `protocoltype ${JSON.stringify(protocolType)} is not supported (cloudevents, eventmeshmessage)`);
  }
  for (const h of HEADER_EXTENSIONS) {
    const v = headers[h];
    if (v !== undefined && v !== '' && !(h in attributes)) attributes[h] = v;
  }
  if (!('protocoltype' in attributes)) attributes.protocoltype = protocolType;
  attributes.ip = remote;
  for (const [k, v] of [['bizseqno', f.bizseqno], ['uniqueid', f.uniqueid], ['producergroup', f.producergroup], ['ttl', f.ttl], ['tag', f.tag]] as const) {
    if (!isBlank(v) && !(k in attributes)) attributes[k] = v!;
  }
  // H9 validation order: id/type/subject → 6; ids, group, topic, data → 7.
  for (const a of ['id', 'type', 'subject'] as const) {
    if (typeof attributes[a] !== 'string' || attributes[a] === '') throw new EvmeshError('EVM_BAD_EVENT', `the event has no ${a === 'subject' ? 'topic (subject)' : a} (H9)`);
  }
  for (const a of ['bizseqno', 'uniqueid', 'producergroup'] as const) {
    if (isBlank(attributes[a] === undefined ? undefined : String(attributes[a]))) throw new EvmeshError('EVM_BAD_REQUEST', `${a} is required (H9)`);
  }
  if (data === undefined) throw new EvmeshError('EVM_BAD_REQUEST', 'the event has no data (H9)');
  return { topic: attributes.subject as string, event: { attributes, data } };
}
