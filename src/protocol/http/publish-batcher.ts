// Publishes of many HTTP requests as one core publishBatch per topic. Each HTTP request carries
// one event and waits for its own answer, so a per-request core.publish cost several promises
// and one PUBLISH message per event; requests that complete in one event-loop iteration (uWS
// reads every ready socket in one poll) are handed to core together on setImmediate. A batch
// refused whole (one invalid event) is retried event by event, so each request gets its own
// answer, as the EventMesh TCP adapter does. Callers get a callback, not a promise: the REST
// publish path answers from it directly (no promise reaction per request).
import type { Client, MeshEvent, PublishResult } from '../../core/types.js';

export type Published = (err: unknown, result: PublishResult | undefined) => void;

interface Pending { readonly event: MeshEvent; readonly done: Published }

export class PublishBatcher {
  private readonly byTopic = new Map<string, Pending[]>();
  private scheduled = false;

  constructor(private readonly client: Client, private readonly maxBatch: number) {}

  /** `done` is called once, with the event's offset or the error. */
  send(topic: string, event: MeshEvent, done: Published): void {
    let list = this.byTopic.get(topic);
    if (list === undefined) { list = []; this.byTopic.set(topic, list); }
    list.push({ event, done });
    if (!this.scheduled) { this.scheduled = true; setImmediate(this.flush); }
  }

  publish(topic: string, event: MeshEvent): Promise<PublishResult> {
    return new Promise((resolve, reject) => this.send(topic, event, (err, r) => (r === undefined ? reject(err) : resolve(r))));
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    for (const [topic, list] of this.byTopic) {
      for (let i = 0; i < list.length; i += this.maxBatch) this.publishBatch(topic, list.length <= this.maxBatch ? list : list.slice(i, i + this.maxBatch));
    }
    this.byTopic.clear();
  };

  private publishBatch(topic: string, batch: Pending[]): void {
    if (batch.length === 1) { this.one(topic, batch[0]!); return; }
    const events: MeshEvent[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) events[i] = batch[i]!.event;
    this.client.publishBatch(topic, events).then(
      (results) => { for (let i = 0; i < batch.length; i++) batch[i]!.done(undefined, results[i]); },
      () => { for (const p of batch) this.one(topic, p); },
    );
  }

  private one(topic: string, p: Pending): void {
    this.client.publish(topic, p.event).then((r) => p.done(undefined, r), (err: unknown) => p.done(err, undefined));
  }
}
