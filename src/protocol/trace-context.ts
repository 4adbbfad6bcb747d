// Trace context from a request's headers (HTTP headers, gRPC metadata; issue 8, spec M30): the
// event's own `traceparent` / `tracestate` attributes win (HTTP binary mode ce-traceparent,
// structured JSON, EventMesh extFields, gRPC CloudEvent attributes); otherwise a W3C Trace
// Context `traceparent` header (what an instrumented HTTP or gRPC client sends) is copied into
// the event, so the trace continues through core to every consumer.
import type { MeshEvent } from '../core/types.js';

/** W3C Trace Context version 00 (all-zero ids are invalid). */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export function traceFromHeaders(headers: Readonly<Record<string, string | undefined>>, event: MeshEvent): MeshEvent {
  const tp = headers.traceparent;
  if (tp === undefined || event.attributes.traceparent !== undefined || !TRACEPARENT.test(tp)) return event;
  const ts = headers.tracestate;
  return { ...event, attributes: { ...event.attributes, traceparent: tp, ...(ts !== undefined && ts !== '' ? { tracestate: ts } : {}) } };
}
