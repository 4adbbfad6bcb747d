// Publishes of many HTTP requests as one core publishBatch per topic. Each HTTP request carries
// one event and waits for its own answer, so a per-request core.publish cost several promises
// and one PUBLISH message per event; requests that complete in one event-loop iteration (uWS
// reads every ready socket in one poll) are handed to core together on setImmediate. A batch
// refused whole (one invalid event) is retried event by event, so each request gets its own
// answer, as the EventMesh TCP adapter does.
import type { Client, MeshEvent, PublishResult } from '../../core/types.js';

interface Pending { readonly event: MeshEvent; resolve(r: PublishResult): void; reject(err: unknown): void }

export class PublishBatcher {
  private readonly byTopic = new Map<string, Pending[]>();
  private scheduled = false;

  constructor(private readonly client: Client, private readonly maxBatch: number) {}

  publish(topic: string, event: MeshEvent): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      let list = this.byTopic.get(topic);
      if (list === undefined) { list = []; this.byTopic.set(topic, list); }
      list.push({ event, resolve, reject });
      if (!this.scheduled) { this.scheduled = true; setImmediate(this.flush); }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    for (const [topic, list] of this.byTopic) {
      for (let i = 0; i < list.length; i += this.maxBatch) this.send(topic, list.slice(i, i + this.maxBatch));
    }
    this.byTopic.clear();
  };

  private send(topic: string, batch: Pending[]): void {
    if (batch.length === 1) {
      const p = batch[0]!;
      this.client.publish(topic, p.event).then(p.resolve, p.reject);
      return;
    }
    this.client.publishBatch(topic, batch.map((p) => p.event)).then(
      (results) => { for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!); },
      () => { for (const p of batch) this.client.publish(topic, p.event).then(p.resolve, p.reject); },
    );
  }
}
