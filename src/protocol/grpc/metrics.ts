// The gRPC port's side of upstream's GRPC meter and general counters (spec M5, M8): one M5 cell
// per client address (the event's `ip` attribute, M4), cached here because building a cell's
// label key costs a string join per call; trace context from call metadata (M30).
import type { Metadata } from '@grpc/grpc-js';
import type { MeshEvent } from '../../core/types.js';
import { threadMetrics } from '../../metrics/shard.js';
import type { TrafficCell } from '../../metrics/traffic.js';
import { traceFromHeaders } from '../trace-context.js';
import { ceString, type PbCloudEvent } from './cloudevent.js';

export const grpcMetrics = threadMetrics.grpc;

const cells = new Map<string, TrafficCell>();

/** The M5 cell of the client named by `ip` (absent → upstream's `unkown`). Cells are kept for the
 *  life of the shard, like the series they feed (counters are cumulative, docs/metrics.md). */
export function cellOf(ip: string | undefined): TrafficCell {
  const key = ip ?? '';
  let c = cells.get(key);
  if (c === undefined) { c = grpcMetrics.client(ip); cells.set(key, c); }
  return c;
}

/** The cell of a request event (its `ip` attribute). */
export function cellOfEvent(ev: PbCloudEvent | undefined): TrafficCell {
  return cellOf(ev === undefined ? undefined : ceString(ev, 'ip'));
}

/** M30: the W3C trace context of a call's metadata (read once per call: Metadata#get allocates). */
export type CallTrace = { readonly traceparent: string; readonly tracestate: string | undefined } | undefined;

export function callTrace(metadata: Metadata): CallTrace {
  const tp = metadata.get('traceparent')[0];
  if (typeof tp !== 'string') return undefined;
  const ts = metadata.get('tracestate')[0];
  return { traceparent: tp, tracestate: typeof ts === 'string' ? ts : undefined };
}

/** M30: the call's `traceparent` goes into an event that has none. */
export function traced(trace: CallTrace, event: MeshEvent): MeshEvent {
  return trace === undefined ? event : traceFromHeaders(trace, event);
}
