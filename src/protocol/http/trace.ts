// Trace context from an HTTP request (issue 8, spec M30): the event's own `traceparent` /
// `tracestate` attributes win (binary mode ce-traceparent, structured JSON, EventMesh extFields);
// otherwise a W3C Trace Context `traceparent` request header (what an instrumented HTTP client
// sends) is copied into the event, so the trace continues through core to every consumer.
import type { MeshEvent } from '../../core/types.js';

/** W3C Trace Context version 00 (all-zero ids are invalid). */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export function traceFromHeaders(headers: Readonly<Record<string, string>>, event: MeshEvent): MeshEvent {
  const tp = headers.traceparent;
  if (tp === undefined || event.attributes.traceparent !== undefined || !TRACEPARENT.test(tp)) return event;
  const ts = headers.tracestate;
  return { ...event, attributes: { ...event.attributes, traceparent: tp, ...(ts !== undefined && ts !== '' ? { tracestate: ts } : {}) } };
}
