// What one webhook push sends and how its answer is judged, per delivery format:
//   binary / structured: CloudEvents HTTP binding (§3.1 / §3.2); success = any 2xx.
//   eventmesh: upstream's push (spec H40: form body, code 105/106 header) and its answer
//     contract (H42: 2xx and a JSON retCode; 0/1 done, 3 or unreadable = done and dropped,
//     2/5 retry).
import { randomInt } from 'node:crypto';
import type { MeshEvent } from '../../core/types.js';
import { toBinary, toStructured, type HttpMessage } from '../http/cloudevents-http.js';
import { cloudEventJson } from '../tcp/messages.js';

export type WebhookFormat = 'binary' | 'structured' | 'eventmesh';
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['binary', 'structured', 'eventmesh'];

export type Verdict = 'done' | 'dropped' | 'retry';

/** Context attributes: everything else is an extension (H40 `extFields`). */
const CONTEXT = new Set(['specversion', 'id', 'source', 'type', 'datacontenttype', 'dataschema', 'subject', 'time']);

function digits(n: number): string {
  let s = '';
  while (s.length < n) s += String(randomInt(0, 1_000_000_000)).padStart(9, '0');
  return s.slice(0, n);
}

/** H40: form body fields; `content` is the structured CloudEvent JSON, except the text data of
 *  events published as eventmeshmessage (the SDK's EventMeshMessage consumer reads it as is). */
function eventMeshPush(topic: string, event: MeshEvent, sync: boolean): HttpMessage {
  const a = event.attributes;
  const ext: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (!CONTEXT.has(k)) ext[k] = String(v);
  const content = a.protocoltype === 'eventmeshmessage'
    ? Buffer.from(event.data ?? new Uint8Array(0)).toString('utf8')
    : cloudEventJson(event);
  const form = new URLSearchParams({
    content,
    bizseqno: typeof a.bizseqno === 'string' ? a.bizseqno : digits(20),
    uniqueId: typeof a.uniqueid === 'string' ? a.uniqueid : digits(20),
    randomNo: `${Date.now()}${digits(4)}`,
    topic,
    extFields: JSON.stringify(ext),
  });
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
      code: sync ? '106' : '105', language: 'JAVA', version: '1.0',
      eventmeshcluster: 'evmesh', eventmeshenv: 'evmesh', eventmeshidc: 'evmesh', eventmeship: '127.0.0.1',
    },
    body: form.toString(),
  };
}

export function pushMessage(format: WebhookFormat, topic: string, event: MeshEvent, sync = false): HttpMessage {
  if (format === 'binary') return toBinary(event);
  if (format === 'structured') return toStructured(event);
  return eventMeshPush(topic, event, sync);
}

/** The subscriber's answer → what happens to the event. */
export function judge(format: WebhookFormat, status: number, body: string): Verdict {
  const ok = status >= 200 && status < 300;
  if (format !== 'eventmesh') return ok ? 'done' : 'retry';
  // H42: only 200/201/202/204 count, then the JSON retCode decides.
  if (status !== 200 && status !== 201 && status !== 202 && status !== 204) return 'retry';
  let retCode: unknown;
  try { retCode = (JSON.parse(body) as { retCode?: unknown }).retCode; } catch { return 'dropped'; }
  if (retCode === 0 || retCode === 1) return 'done';
  if (retCode === 2 || retCode === 5) return 'retry';
  return 'dropped';
}
