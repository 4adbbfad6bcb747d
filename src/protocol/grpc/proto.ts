// Loads proto/ (EventMesh's cloudevents.v1 services, spec G2–G5) with @grpc/proto-loader at start-up
// (docs/grpc.md "Why proto-loader"): no generated code to keep in step with the .proto files.
// The CloudEvent and CloudEventBatch messages are (de)serialized by codec.ts (about 10× faster
// than protobufjs for the Java SDK's events); bytes that are not a valid message reach the handler
// as a BadMessage (answered INVALID_ARGUMENT) instead of grpc-js's INTERNAL.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSync, type MessageTypeDefinition, type PackageDefinition, type MethodDefinition } from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { decodeCloudEvent, decodeCloudEventBatch, encodeCloudEvent, encodeCloudEventBatch } from './codec.js';

export const PACKAGE = 'org.apache.eventmesh.cloudevents.v1';

/** proto/ at the package root: ../../../proto from src/ under tsx, one more level from dist/src. */
export function protoDir(): string {
  for (const rel of ['../../../proto/', '../../../../proto/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}eventmesh-service.proto`)) return dir;
  }
  throw new Error('proto/eventmesh-service.proto not found next to the evmesh package');
}

/** keepCase: field names as in the .proto (spec_version, text_data, ce_string …); longs as
 *  strings (Timestamp.seconds); no defaults, so absent fields are undefined; oneofs adds the
 *  name of the set member (`data`, `attr`). */
export const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true } as const;

let loaded: PackageDefinition | undefined;

export function packageDefinition(): PackageDefinition {
  loaded ??= loadSync(['eventmesh-service.proto'], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  return loaded;
}

/** Marks a request whose bytes did not decode. */
export class BadMessage {
  constructor(readonly error: string) {}
}

type Codec = { encode(v: object): Buffer; decode(b: Buffer): object };
const CODECS: Record<string, Codec> = {
  // A Buffer is a CloudEvent encoded already (stream pushes, encode-event.ts).
  CloudEvent: { encode: (v) => (Buffer.isBuffer(v) ? v : encodeCloudEvent(v)), decode: decodeCloudEvent },
  CloudEventBatch: { encode: encodeCloudEventBatch, decode: decodeCloudEventBatch },
};

const typeName = (t: MessageTypeDefinition<object, object>): string => (t.type as { name?: string }).name ?? '';

/** A service of the package with codec.ts for its CloudEvent messages and deserializers that
 *  never throw (see above); `requestDecoders` replace the request deserializers of some methods
 *  (publisher.ts reads publish requests straight into core events). */
export function service(name: 'PublisherService' | 'ConsumerService' | 'HeartbeatService', requestDecoders: Readonly<Record<string, (b: Buffer) => object>> = {}): ServiceDefinition {
  const def = packageDefinition()[`${PACKAGE}.${name}`] as Record<string, MethodDefinition<object, object>>;
  const out: Record<string, MethodDefinition<object, object>> = {};
  for (const [method, m] of Object.entries(def)) {
    const req = CODECS[typeName(m.requestType)], res = CODECS[typeName(m.responseType)];
    const decode = requestDecoders[method] ?? req?.decode ?? m.requestDeserialize;
    out[method] = {
      ...m,
      requestSerialize: req?.encode ?? m.requestSerialize,
      responseSerialize: res?.encode ?? m.responseSerialize,
      responseDeserialize: res?.decode ?? m.responseDeserialize,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch (err) {
          return new BadMessage(err instanceof Error ? err.message : String(err));
        }
      },
    };
  }
  return out as unknown as ServiceDefinition;
}

export function messageType(name: string): MessageTypeDefinition<object, object> {
  return packageDefinition()[name] as MessageTypeDefinition<object, object>;
}
