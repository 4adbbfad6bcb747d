// CloudEvents HTTP protocol binding 1.0 (cloudevents/spec http-protocol-binding.md), pure:
// request headers + body bytes → MeshEvents, MeshEvent → push request headers + body.
// Upstream has no binding (spec H45: "a compatible server MAY add the standard binding").
//   structured: Content-Type application/cloudevents+json, the body is one JSON event (§3.2)
//   batch:      Content-Type application/cloudevents-batch+json, a JSON array of events (§3.3)
//   binary:     attributes in ce-* headers, datacontenttype = Content-Type, the body bytes are
//               the data exactly as received (§3.1)
import { EvmeshError } from '../../errors.js';
import type { AttrValue, MeshEvent } from '../../core/types.js';
import { fromStructuredJson } from '../cloudevents-json.js';
import { cloudEventJson } from '../tcp/messages.js';

export type CeMode = 'binary' | 'structured' | 'batch';

export const STRUCTURED_TYPE = 'application/cloudevents+json';
export const BATCH_TYPE = 'application/cloudevents-batch+json';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Request headers as name, value, name, value… with lower-case names (uWS's order). */
export type HeaderList = readonly string[];

/** A header's value in `list`; the last one when the header is repeated. */
export function headerOf(list: HeaderList, name: string): string | undefined {
  for (let i = list.length - 2; i >= 0; i -= 2) if (list[i] === name) return list[i + 1];
  return undefined;
}

/** The media type without parameters, lower-cased. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** The binding mode of a request: by Content-Type (§3.2, §3.3), else binary when a
 *  ce-specversion header is present (§3.1); undefined when the request is not a CloudEvent. */
export function modeOf(headers: HeaderList): CeMode | undefined {
  const mt = mediaType(headerOf(headers, 'content-type'));
  if (mt === STRUCTURED_TYPE) return 'structured';
  if (mt === BATCH_TYPE) return 'batch';
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.startsWith('ce-')) return 'binary';
  return undefined;
}

function parseJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new EvmeshError('EVM_BAD_REQUEST', 'the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new EvmeshError('EVM_BAD_REQUEST', `malformed JSON body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** §3.1.3.2: header values are percent-decoded as UTF-8. */
function decodeHeaderValue(v: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v; // a bare "%" that is not an escape stays as sent
  }
}

/** §3.1.3.2: space, double quote, percent and anything outside printable ASCII are
 *  percent-encoded (UTF-8). */
export function encodeHeaderValue(v: string): string {
  return /[^\x21-\x7e]|["%]/.test(v) ? v.replace(/[^\x21-\x7e]|["%]/gu, (c) => encodeURIComponent(c)) : v;
}

/** The events of a CloudEvents request. Attribute validation (required attributes, names,
 *  formats) is core's `validateEvent`, run by publish. */
export function parseCloudEvents(mode: CeMode, headers: HeaderList, body: Uint8Array): MeshEvent[] {
  if (mode === 'structured') return [fromStructuredJson(parseJson(body))];
  if (mode === 'batch') {
    const arr = parseJson(body);
    if (!Array.isArray(arr)) throw new EvmeshError('EVM_BAD_REQUEST', `${BATCH_TYPE} body must be a JSON array of events`);
    return arr.map((o) => fromStructuredJson(o));
  }
  const attributes: Record<string, AttrValue> = {};
  // A repeated ce-* header keeps its last value, as a later store overwrites an earlier one.
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.startsWith('ce-') && name.length > 3) attributes[name.slice(3)] = decodeHeaderValue(headers[i + 1]!);
  }
  // §3.1.1: Content-Type carries datacontenttype; the body is the data, byte for byte.
  const ct = headerOf(headers, 'content-type');
  if (ct !== undefined && ct !== '') attributes.datacontenttype = ct;
  if (attributes.specversion === undefined) throw new EvmeshError('EVM_BAD_EVENT', 'attribute "specversion" is required (header ce-specversion)', { attribute: 'specversion' });
  return [body.length === 0 && ct === undefined ? { attributes } : { attributes, data: body }];
}

export interface HttpMessage {
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | string;
}

/** A MeshEvent as a binary-mode message (§3.1): attributes as ce-* headers, data as the body. */
export function toBinary(event: MeshEvent): HttpMessage {
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(event.attributes)) {
    if (name === 'datacontenttype') headers['content-type'] = String(v);
    else headers[`ce-${name}`] = encodeHeaderValue(String(v));
  }
  return { headers, body: event.data ?? new Uint8Array(0) };
}

/** A MeshEvent as a structured-mode message (§3.2). */
export function toStructured(event: MeshEvent): HttpMessage {
  return { headers: { 'content-type': `${STRUCTURED_TYPE}; charset=utf-8` }, body: cloudEventJson(event) };
}
