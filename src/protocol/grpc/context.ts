// What the gRPC handlers share in one shard, and the helpers that answer a call.
import { Metadata, status as GrpcStatus, type sendUnaryData, type ServerErrorResponse } from '@grpc/grpc-js';
import type { EvmeshConfig } from '../../config/schema.js';
import type { Client } from '../../core/types.js';
import { ERRORS, EvmeshError } from '../../errors.js';
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

/** An in-message answer (G8); an error answer also carries its catalog code as trailer. */
export function answer(cb: sendUnaryData<PbCloudEvent>, response: PbCloudEvent, errorCode?: string): void {
  if (errorCode === undefined) cb(null, response);
  else cb(null, response, trailer(errorCode));
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
