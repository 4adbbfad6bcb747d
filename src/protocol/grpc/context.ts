// What the gRPC handlers share in one shard, and the helpers that answer a call.
import { Metadata, status as GrpcStatus, type sendUnaryData, type ServerErrorResponse, type ServerUnaryCall } from '@grpc/grpc-js';
import type { EvmeshConfig } from '../../config/schema.js';
import type { Client } from '../../core/types.js';
import { ERRORS, EvmeshError, type ErrorCode } from '../../errors.js';
import type { PbCloudEvent } from './cloudevent.js';
import { BadMessage } from './proto.js';
import { detail } from './status.js';

export interface GrpcContext {
  readonly client: Client;
  readonly config: EvmeshConfig;
  /** Set by the plugin's drain(): new work is refused (G30 status 8 / UNAVAILABLE). */
  draining: boolean;
}

export const CODE_METADATA = 'evmesh-code';

function trailer(code: string): Metadata {
  const m = new Metadata();
  m.set(CODE_METADATA, code);
  return m;
}

/** Request metadata by which a client asks for gRPC status errors instead of in-message ones. */
export const STATUS_ERRORS_METADATA = 'evmesh-status-errors';
/** Trailer with upstream's status code (G30) of an error answer. */
export const STATUSCODE_METADATA = 'eventmesh-statuscode';

/** An in-message answer (G8); an error answer also carries its catalog code as trailer. A client
 *  that sent `evmesh-status-errors: true` gets errors as gRPC statuses instead (the catalog's
 *  status, e.g. INVALID_ARGUMENT; details = the responsemessage, which holds the catalog code;
 *  trailers evmesh-code and eventmesh-statuscode). */
export function answer(call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<PbCloudEvent>, response: PbCloudEvent, errorCode?: ErrorCode): void {
  if (errorCode === undefined) return cb(null, response);
  const md = trailer(errorCode);
  md.set(STATUSCODE_METADATA, response.attributes?.statuscode?.ce_string ?? '');
  if (call.metadata.get(STATUS_ERRORS_METADATA)[0] !== 'true') return cb(null, response, md);
  const text = response.attributes?.responsemessage?.ce_string ?? errorCode;
  const e = new Error(text) as ServerErrorResponse;
  e.code = ERRORS[errorCode].grpc;
  e.details = text;
  e.metadata = md;
  cb(e);
}

/** A gRPC status error for methods without an in-message answer (one-way calls, undecodable
 *  requests, stream-level errors): the catalog's gRPC status, details "CODE: message". */
export function statusError(err: EvmeshError): ServerErrorResponse {
  const e = new Error(detail(err)) as ServerErrorResponse;
  e.code = ERRORS[err.code].grpc;
  e.details = detail(err);
  e.metadata = trailer(err.code);
  return e;
}

/** Bytes that did not decode as the request message → INVALID_ARGUMENT. */
export function badMessageError(m: BadMessage): ServerErrorResponse {
  const e = statusError(new EvmeshError('EVM_BAD_FRAME', `the request is not a valid protobuf message: ${m.error}`));
  e.code = GrpcStatus.INVALID_ARGUMENT;
  return e;
}

export function isBad(req: unknown): req is BadMessage {
  return req instanceof BadMessage;
}
