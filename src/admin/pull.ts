// A pull consumer over the in-process client, behind the admin API's GET /topics/{t}/events:
// join the group, collect up to `max` deliveries (waiting up to waitMs for the first), leave.
// Events are acked only when the HTTP response has been handed to the kernel (ack()); a failed
// response releases them for redelivery to the group (release()).
import { EvmeshError } from '../errors.js';
import type { Client, Delivery, StartPosition } from '../core/types.js';
import { toStructuredJson } from '../protocol/cloudevents-json.js';

export interface PulledBatch {
  events: unknown[];
  ack(): void;
  release(): void;
}

/** After the first delivery, wait this long for more before answering (batching). */
const LINGER_MS = 5;

export async function pull(client: Client, topic: string, group: string, max: number, waitMs: number, from: StartPosition | undefined): Promise<PulledBatch> {
  const got: Delivery[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  let linger: NodeJS.Timeout | undefined;
  let closed = false;
  const sub = await client.subscribe({ topic, group, maxInflight: max, ...(from === undefined ? {} : { from }) }, (d) => {
    // Over `max` or after the answer was composed: left unacked, so closing the subscription
    // hands it to the group's next member.
    if (closed || got.length >= max) return;
    got.push(d);
    if (got.length >= max) done();
    else if (linger === undefined) linger = setTimeout(done, LINGER_MS);
  });
  const timer = setTimeout(done, waitMs);
  await finished;
  closed = true;
  clearTimeout(timer);
  clearTimeout(linger);
  const events = got.map((d) => ({ partition: d.partition, offset: d.offset, attempt: d.attempt, event: toStructuredJson(d.event) }));
  let settled = false;
  return {
    events,
    ack() {
      if (settled) return;
      settled = true;
      for (const d of got) d.ack();
      void sub.close();
    },
    release() {
      if (settled) return;
      settled = true;
      void sub.close();
    },
  };
}

/** `from` query value: earliest | latest | an offset | t:<ms since epoch>. */
export function parseFrom(from: string | undefined): StartPosition | undefined {
  if (from === undefined || from === 'latest' || from === 'earliest') return from;
  const ts = /^t:(\d{1,16})$/.exec(from);
  if (ts) return { timestamp: Number(ts[1]) };
  if (/^\d{1,16}$/.test(from)) return { offset: Number(from) };
  throw new EvmeshError('EVM_BAD_REQUEST', `query parameter from: ${JSON.stringify(from)} is not earliest, latest, an offset or t:<epoch ms>`);
}
