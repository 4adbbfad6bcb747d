// Tracing (issue 8, spec M30): W3C trace context carried in the CloudEvents distributed-tracing
// extension (`traceparent`/`tracestate` attributes), so it crosses every protocol with the event
// and is stored with it; spans for publish, store and deliver through the OpenTelemetry SDK with
// an OTLP/HTTP exporter. Off by default (tracing.exporter: none): then the SDK is never loaded
// and core's only cost is one `tracer === undefined` check per batch.
import type { Span, Tracer } from '@opentelemetry/api';
import type { EvmeshConfig } from '../config/schema.js';
import { decodeEvent } from '../core/codec.js';
import type { MeshEvent } from '../core/types.js';

type Api = typeof import('@opentelemetry/api');

interface Active {
  readonly api: Api;
  readonly tracer: Tracer;
  readonly shutdown: () => Promise<void>;
}

let active: Active | undefined;
/** Live binding read by core on its per-event paths: false → no tracing work at all. */
export let tracingOn = false;

/** Starts this thread's tracer when config.tracing.exporter is otlp (each shard and the main
 *  thread have their own; one BatchSpanProcessor each). */
export async function startTracing(config: EvmeshConfig, node: string): Promise<void> {
  if (config.tracing.exporter === 'none' || active !== undefined) return;
  const api = await import('@opentelemetry/api');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.tracing.serviceName, 'evmesh.node': node }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracing.otlpUrl }), {
      // M30: upstream's batch processor settings.
      maxExportBatchSize: 512, maxQueueSize: 2048, exportTimeoutMillis: 30_000, scheduledDelayMillis: config.tracing.exportIntervalMs,
    })],
  });
  active = { api, tracer: provider.getTracer('evmesh'), shutdown: () => provider.shutdown() };
  tracingOn = true;
}

/** How long shutdown waits for the last export (an unreachable collector must not hold it). */
const STOP_WAIT_MS = 3_000;

/** Exports what is buffered and stops (shard close, broker stop). */
export async function stopTracing(): Promise<void> {
  const a = active;
  active = undefined;
  tracingOn = false;
  if (a === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([a.shutdown(), new Promise<void>((r) => { timer = setTimeout(r, STOP_WAIT_MS); })]);
  clearTimeout(timer);
}

function parentOf(a: Active, attributes: MeshEvent['attributes']) {
  const carrier: Record<string, string> = {};
  if (typeof attributes.traceparent === 'string') carrier.traceparent = attributes.traceparent;
  if (typeof attributes.tracestate === 'string') carrier.tracestate = attributes.tracestate;
  return W3C.extract(a, carrier);
}

const W3C = {
  extract(a: Active, carrier: Record<string, string>) {
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(carrier.traceparent ?? '');
    if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return a.api.ROOT_CONTEXT;
    return a.api.trace.setSpanContext(a.api.ROOT_CONTEXT, {
      traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true,
      ...(carrier.tracestate ? { traceState: a.api.createTraceState(carrier.tracestate) } : {}),
    });
  },
  inject(span: Span): string {
    const c = span.spanContext();
    return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 1) === 1 ? '01' : '00'}`;
  },
};

export interface PublishSpans {
  /** The events with `traceparent` set to their publish span (what is stored and delivered). */
  readonly events: MeshEvent[];
  end(error?: unknown): void;
}

/** One PRODUCER span per event, child of the event's own traceparent if it has one; the span's
 *  context replaces the event's traceparent so consumers continue the trace. */
export function publishSpans(topic: string, events: readonly MeshEvent[]): PublishSpans | undefined {
  const a = active;
  if (a === undefined) return undefined;
  const spans: Span[] = [];
  const out = events.map((ev) => {
    const span = a.tracer.startSpan('publish', {
      kind: a.api.SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'evmesh', 'messaging.destination.name': topic, 'cloudevents.event_id': String(ev.attributes.id) },
    }, parentOf(a, ev.attributes));
    spans.push(span);
    return { ...ev, attributes: { ...ev.attributes, traceparent: W3C.inject(span) } };
  });
  return {
    events: out,
    end(error) {
      for (const s of spans) {
        if (error !== undefined) s.setStatus({ code: a.api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        s.end();
      }
    },
  };
}

/** Spans around work on stored (encoded) events: 'store' (one append) and 'deliver'. Each is a
 *  child of the event's traceparent; events without one get none. Returns the end function. */
export function storedSpans(name: 'store' | 'deliver', topic: string, partition: number, values: readonly Uint8Array[], extra: Record<string, number> = {}): ((error?: unknown) => void) | undefined {
  const a = active;
  if (a === undefined) return undefined;
  const spans: Span[] = [];
  for (const bytes of values) {
    let attributes: MeshEvent['attributes'];
    try { attributes = decodeEvent(bytes).attributes; } catch { continue; }
    if (typeof attributes.traceparent !== 'string') continue;
    spans.push(a.tracer.startSpan(name, {
      kind: name === 'deliver' ? a.api.SpanKind.CONSUMER : a.api.SpanKind.INTERNAL,
      attributes: { 'messaging.system': 'evmesh', 'messaging.destination.name': topic, 'messaging.destination.partition.id': String(partition), ...extra },
    }, W3C.extract(a, { traceparent: attributes.traceparent, ...(typeof attributes.tracestate === 'string' ? { tracestate: attributes.tracestate } : {}) })));
  }
  return (error) => {
    for (const s of spans) {
      if (error !== undefined) s.setStatus({ code: a.api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      s.end();
    }
  };
}
