// The one error catalog (DESIGN §4). Every protocol maps its replies from here; docs/errors.md
// lists every code (test/docs.test.ts fails when they disagree). Errors cross threads as
// plain `{code, message, props}` objects (toWire/fromWire), never as Error instances.
//
// Columns: HTTP status; EventMesh retCode (spec H8, `EventMeshRetCode`: 6 header/attribute error,
// 7 body error, 8 size, 4 request-reply wait, 1 overload, 15 storage, 9 stopping, 22 ACL, 18
// runtime, 100 operate fail) and TCP OPStatus (T67: 1 FAIL — what upstream sends for every failure
// — except 2 ACL_FAIL and 3 TPS_OVERLOAD, which clients accept as failures too); gRPC status code
// number (G*); a one-line description for the docs.

export interface ErrorSpec {
  readonly http: number;
  readonly retCode: number;
  readonly opStatus: number;
  readonly grpc: number;
  readonly description: string;
}

// gRPC status numbers (grpc/status.h).
const INVALID_ARGUMENT = 3, NOT_FOUND = 5, ALREADY_EXISTS = 6, PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8, FAILED_PRECONDITION = 9, ABORTED = 10, UNIMPLEMENTED = 12,
  INTERNAL = 13, UNAVAILABLE = 14, DEADLINE_EXCEEDED = 4, UNAUTHENTICATED = 16;

export const ERRORS = {
  EVM_BAD_CONFIG: { http: 400, retCode: 18, opStatus: 1, grpc: INVALID_ARGUMENT, description: 'A configuration value is invalid.' },
  EVM_BAD_EVENT: { http: 400, retCode: 6, opStatus: 1, grpc: INVALID_ARGUMENT, description: 'The event is not a valid CloudEvent 1.0 (a required attribute is missing or malformed).' },
  EVM_BAD_TOPIC: { http: 400, retCode: 6, opStatus: 1, grpc: INVALID_ARGUMENT, description: 'The topic name is empty, too long or has characters outside [A-Za-z0-9._-].' },
  EVM_BAD_REQUEST: { http: 400, retCode: 7, opStatus: 1, grpc: INVALID_ARGUMENT, description: 'The request is malformed or misses a required field.' },
  EVM_BAD_FRAME: { http: 400, retCode: 7, opStatus: 1, grpc: INVALID_ARGUMENT, description: 'A protocol frame could not be decoded (wrong magic, bad length, malformed header).' },
  EVM_TOO_LARGE: { http: 413, retCode: 8, opStatus: 1, grpc: RESOURCE_EXHAUSTED, description: 'A frame, body, event or batch exceeds its configured limit.' },
  EVM_UNKNOWN_TOPIC: { http: 404, retCode: 100, opStatus: 1, grpc: NOT_FOUND, description: 'The topic does not exist and auto-creation is disabled.' },
  EVM_TOPIC_EXISTS: { http: 409, retCode: 100, opStatus: 1, grpc: ALREADY_EXISTS, description: 'A topic with that name exists with a different partition count.' },
  EVM_UNKNOWN_SUBSCRIPTION: { http: 404, retCode: 100, opStatus: 1, grpc: NOT_FOUND, description: 'The subscription or consumer group member does not exist.' },
  EVM_BAD_OFFSET: { http: 416, retCode: 7, opStatus: 1, grpc: FAILED_PRECONDITION, description: 'The requested offset is outside the partition\'s retained range.' },
  EVM_TIMEOUT: { http: 504, retCode: 4, opStatus: 1, grpc: DEADLINE_EXCEEDED, description: 'The operation (a request-reply, a publish acknowledgement) did not complete in time.' },
  EVM_OVERLOADED: { http: 503, retCode: 1, opStatus: 3, grpc: RESOURCE_EXHAUSTED, description: 'A bounded queue is full; retry later (backpressure).' },
  EVM_UNAVAILABLE: { http: 503, retCode: 18, opStatus: 1, grpc: UNAVAILABLE, description: 'The broker or the shard that owns the partition is starting, restarting or shutting down.' },
  EVM_STORAGE: { http: 500, retCode: 15, opStatus: 1, grpc: INTERNAL, description: 'The storage backend failed to append, read or commit.' },
  EVM_CORRUPT: { http: 500, retCode: 18, opStatus: 1, grpc: INTERNAL, description: 'Stored data failed its CRC32C check or is structurally invalid.' },
  EVM_UNAUTHENTICATED: { http: 401, retCode: 22, opStatus: 2, grpc: UNAUTHENTICATED, description: 'The client did not present valid credentials.' },
  EVM_FORBIDDEN: { http: 403, retCode: 22, opStatus: 2, grpc: PERMISSION_DENIED, description: 'The client is not allowed to do this.' },
  EVM_UNSUPPORTED: { http: 415, retCode: 7, opStatus: 1, grpc: UNIMPLEMENTED, description: 'The content type, command or feature is not supported.' },
  EVM_CONFLICT: { http: 409, retCode: 100, opStatus: 1, grpc: ABORTED, description: 'The operation conflicts with the current state (for example a duplicate client id).' },
  EVM_SHUTTING_DOWN: { http: 503, retCode: 9, opStatus: 1, grpc: UNAVAILABLE, description: 'The broker is draining for shutdown and accepts no new work.' },
  EVM_INTERNAL: { http: 500, retCode: 18, opStatus: 1, grpc: INTERNAL, description: 'An unexpected internal error; the message has details.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export interface WireError {
  code: ErrorCode;
  message: string;
  props?: Record<string, unknown>;
}

export class EvmeshError extends Error {
  readonly code: ErrorCode;
  readonly props: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, props?: Record<string, unknown>) {
    super(message);
    this.name = 'EvmeshError';
    this.code = code;
    this.props = props;
  }
  get spec(): ErrorSpec { return ERRORS[this.code]; }
  toWire(): WireError {
    return this.props === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, props: this.props };
  }
  toJSON(): WireError { return this.toWire(); }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, code);
}

/** Wraps anything thrown into an EvmeshError (unknown errors become EVM_INTERNAL). */
export function toEvmeshError(err: unknown): EvmeshError {
  if (err instanceof EvmeshError) return err;
  if (err && typeof err === 'object' && isErrorCode((err as WireError).code)) {
    const w = err as WireError;
    return new EvmeshError(w.code, String(w.message), w.props);
  }
  return new EvmeshError('EVM_INTERNAL', err instanceof Error ? err.message : String(err));
}

export function fromWire(w: WireError): EvmeshError {
  return toEvmeshError(w);
}
