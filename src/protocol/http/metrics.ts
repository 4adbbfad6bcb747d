// The HTTP port's side of upstream's HTTP meter (spec M6): thin wrappers the handlers call so
// the hot path only bumps numbers (no label strings per request; labels are built once in
// bind). Publishes in flight to core are the send/batch "queue" gauges (evmesh has no thread
// pools: a publish waits for its owner's acknowledgement, not for a pool thread).
import { threadMetrics } from '../../metrics/shard.js';

const m = threadMetrics.http;
let sending = 0;
let batching = 0;

/** The listener is up (M4 HTTP label set); `pushes` reads this shard's webhook queues. */
export function bindHttpMetrics(host: string, port: number, pushes: () => { queued: number; retrying: number }): void {
  m.bind('http', host, port, () => {
    const p = pushes();
    return { batch: batching, send: sending, push: p.queued, retry: p.retrying };
  });
}

/** A single publish (REST single event, 104, 101, /eventmesh/publish): M6 send counters and
 *  send→acknowledgement cost, recorded once core acknowledged or failed it. */
export function timedSend<T>(p: Promise<T>): Promise<T> {
  const t0 = sendStarted();
  return p.then(
    (r) => { sendEnded(true, t0); return r; },
    (err: unknown) => { sendEnded(false, t0); throw err; },
  );
}

/** timedSend for a callback-style publish: returns the start time to hand to sendEnded. */
export function sendStarted(): number {
  sending++;
  return performance.now();
}

export function sendEnded(ok: boolean, t0: number): void {
  sending--;
  m.sendMessage(ok, performance.now() - t0);
}

/** A batch publish of `events` events (REST batch, 102, 107). */
export function timedBatch<T>(events: number, p: Promise<T>): Promise<T> {
  const t0 = performance.now();
  batching++;
  return p.then(
    (r) => { batching--; m.batchSendMessage(events, true, performance.now() - t0); return r; },
    (err: unknown) => { batching--; m.batchSendMessage(events, false, performance.now() - t0); throw err; },
  );
}

/** A 301 reply handed to core. */
export function timedReply<T>(p: Promise<T>): Promise<T> {
  const t0 = performance.now();
  return p.then(
    (r) => { m.replyMessage(true, performance.now() - t0); return r; },
    (err: unknown) => { m.replyMessage(false, performance.now() - t0); throw err; },
  );
}

/** Body bytes → request fields or events (M6 body decode cost); a parse error still counts. */
export function decoded<T>(parse: () => T): T {
  const t0 = performance.now();
  try {
    return parse();
  } finally {
    m.bodyDecoded(performance.now() - t0);
  }
}

/** A batch refused whole by limits.maxBatchEvents (evmesh's batch limiter, M6 discard). */
export function batchDiscarded(events: number): void {
  m.batchSendDiscarded(events);
}
