// Request checks of the EventMesh gRPC methods (spec G9, G13, G17). Each returns the problem as
// text (undefined = fine); the caller picks the G30 status the clause names.
import type { GroupMode } from '../../core/types.js';
import { ceString, isProtoContent, isTextContent, type PbCloudEvent } from './cloudevent.js';

const HEADER_KEYS = ['idc', 'env', 'ip', 'pid', 'sys', 'username', 'passwd', 'language'] as const;
const DATA_KEYS = ['uniqueid', 'producergroup', 'subject', 'ttl'] as const;
/** Every attribute the G9 checks read. */
export const CHECKED_KEYS: readonly string[] = [...HEADER_KEYS, ...DATA_KEYS, 'datacontenttype'];

/** A request as the G9 checks see it: its attributes read the way upstream reads them
 *  (`getCeString`: only ce_string values count), and its data field — the one set, if it is
 *  not empty (proto_data: set). */
export interface Checkable {
  ceString(key: string): string | undefined;
  readonly data: 'text' | 'binary' | 'proto' | undefined;
}

/** A decoded CloudEvent as the checks see it. */
export function checkable(ev: PbCloudEvent): Checkable {
  const data = ev.text_data ? 'text' : ev.binary_data !== undefined && ev.binary_data.length > 0 ? 'binary' : ev.proto_data ? 'proto' : undefined;
  return { ceString: (key) => ceString(ev, key), data };
}

/** G9 header check (→ status 6): the client attributes, read as ce_string; pid numeric. */
export function headerProblem(ev: Checkable): string | undefined {
  for (const k of HEADER_KEYS) {
    const v = ev.ceString(k);
    if (v === undefined || v === '') return `attribute ${k} (ce_string) is required (G9)`;
  }
  if (!/^\d+$/.test(ev.ceString('pid')!)) return 'attribute pid must be numeric (G9)';
  return undefined;
}

/** G9 data check (→ status 7): publish attributes, and the data field `datacontenttype` selects. */
export function dataProblem(ev: Checkable): string | undefined {
  for (const k of DATA_KEYS) {
    const v = ev.ceString(k);
    if (v === undefined || v === '') return `attribute ${k} (ce_string) is required (G9)`;
  }
  const ct = ev.ceString('datacontenttype');
  if (isTextContent(ct)) return ev.data === 'text' ? undefined : `text_data must not be empty for datacontenttype ${ct} (G9)`;
  if (isProtoContent(ct)) return ev.data === 'proto' ? undefined : 'proto_data must be set for datacontenttype application/protobuf (G9)';
  return ev.data === 'binary' ? undefined : 'binary_data must not be empty (G9: no text-like datacontenttype)';
}

export type SubscriptionType = 'ASYNC' | 'SYNC';
export interface SubscriptionItem { readonly topic: string; readonly mode: GroupMode; readonly type: SubscriptionType }

/** G13: text_data = JSON array of {topic, mode, type}. Throws SyntaxError/TypeError when it
 *  cannot be read at all (→ 17); returns text for invalid items (→ 7). */
export function parseItems(ev: PbCloudEvent): SubscriptionItem[] | string {
  const text = ev.text_data ?? (ev.binary_data !== undefined ? Buffer.from(ev.binary_data).toString('utf8') : undefined);
  if (text === undefined || text === '') return 'text_data must hold the subscription items (G13)';
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list)) throw new TypeError('the subscription items must be a JSON array');
  if (list.length === 0) return 'the subscription item list is empty (G13)';
  const items: SubscriptionItem[] = [];
  for (const raw of list) {
    if (raw === null || typeof raw !== 'object') throw new TypeError('a subscription item must be an object');
    const { topic, mode, type } = raw as Record<string, unknown>;
    if (typeof topic !== 'string' || topic.trim() === '') return 'a subscription item has a blank topic (G13)';
    if (mode !== 'CLUSTERING' && mode !== 'BROADCASTING') return `subscription mode ${JSON.stringify(mode)} is not CLUSTERING or BROADCASTING (G13)`;
    if (type !== 'ASYNC' && type !== 'SYNC') return `subscription type ${JSON.stringify(type)} is not ASYNC or SYNC (G13)`;
    items.push({ topic, mode, type });
  }
  return items;
}

export interface HeartbeatItem { readonly topic: string; readonly url: string | undefined }

/** G17: text_data = JSON array of {topic, url?}. undefined = missing text_data (→ 19); a string
 *  = invalid (→ 7). */
export function parseHeartbeatItems(ev: PbCloudEvent): HeartbeatItem[] | string | undefined {
  if (ev.text_data === undefined || ev.text_data === '') return undefined;
  let list: unknown;
  try { list = JSON.parse(ev.text_data); } catch { return 'text_data is not a JSON array of heartbeat items (G17)'; }
  if (!Array.isArray(list)) return 'text_data is not a JSON array of heartbeat items (G17)';
  const items: HeartbeatItem[] = [];
  for (const raw of list) {
    const { topic, url } = (raw ?? {}) as Record<string, unknown>;
    if (typeof topic !== 'string' || topic.trim() === '') return 'a heartbeat item has a blank topic (G17)';
    items.push({ topic, url: typeof url === 'string' ? url : undefined });
  }
  return items;
}
