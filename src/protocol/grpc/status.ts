// EventMesh gRPC responses (spec G8) and status codes (G30). Errors of the methods that answer a
// CloudEvent are reported IN the message (statuscode/responsemessage attributes, gRPC status OK)
// because that is what the Java SDK reads; the evmesh catalog code (src/errors.ts) leads the
// detail text and is also sent as the trailing metadata `evmesh-code`.
import type { EvmeshError } from '../../errors.js';
import { nowTimestamp, uuid, type PbCloudEvent } from './cloudevent.js';

/** G30: the codes evmesh emits, with upstream's texts. */
export const STATUS = {
  SUCCESS: [0, 'success'],
  OVERLOAD: [1, 'eventMesh overload, try later, '],
  PROTOCOL_HEADER_ERR: [6, 'eventMesh CloudEvent[header] err, '],
  PROTOCOL_BODY_ERR: [7, 'eventMesh CloudEvent[body] err, '],
  STOP: [8, 'eventMesh will stop or had stopped, '],
  BATCH_PUBLISH_ERR: [10, 'eventMesh batch publish messages error, '],
  SEND_ASYNC_MSG_ERR: [14, 'eventMesh send async msg err, '],
  REPLY_MSG_ERR: [15, 'eventMesh reply msg err, '],
  SUBSCRIBE_ERR: [17, 'eventMesh subscribe err'],
  UNSUBSCRIBE_ERR: [18, 'eventMesh unsubscribe err'],
  HEARTBEAT_ERR: [19, 'eventMesh heartbeat err'],
  REQUEST_REPLY_MSG_ERR: [22, 'eventMesh request reply msg err, '],
  CLIENT_RESUBSCRIBE: [30, 'client needs to resubscribe.'],
} as const satisfies Record<string, readonly [number, string]>;

export type Status = keyof typeof STATUS;

/** The detail text of an error: its catalog code first. */
export function detail(err: EvmeshError): string {
  return `${err.code}: ${err.message}`;
}

/** G8 plain form: spec_version + statuscode, responsemessage, time; `id` is a random UUID when a
 *  detail is appended (as upstream). */
export function plain(status: Status, text?: string): PbCloudEvent {
  const [code, msg] = STATUS[status];
  return {
    id: text === undefined ? '' : uuid(),
    spec_version: '1.0',
    attributes: {
      statuscode: { ce_string: String(code) },
      responsemessage: { ce_string: text === undefined ? msg : `${msg} ${text}` },
      time: nowTimestamp(),
    },
  };
}

/** G8 echo form: the request with the three status attributes added; responsemessage is the
 *  detail alone when there is one. */
export function echo(request: PbCloudEvent, status: Status, text?: string): PbCloudEvent {
  const [code, msg] = STATUS[status];
  return {
    ...request,
    attributes: {
      ...request.attributes,
      statuscode: { ce_string: String(code) },
      responsemessage: { ce_string: text ?? msg },
      time: nowTimestamp(),
    },
  };
}
