// Codec micro benchmarks (tinybench): one 1 KiB CloudEvent through each codec on the hot path —
// core's event codec (storage and rings), EventMesh TCP (message body + frame, encode and
// decode), and the binary protocol's PUBLISH frame (64 events, encode and decode).
import { Bench } from 'tinybench';
import { decodeEvent, encodeEvent } from '../src/core/codec.js';
import type { MeshEvent } from '../src/core/types.js';
import { FrameDecoder as BinaryDecoder } from '../src/protocol/binary/frame-decoder.js';
import { FrameWriter as BinaryWriter } from '../src/protocol/binary/frame-writer.js';
import { F } from '../src/protocol/binary/frames.js';
import { HeaderCodec } from '../src/protocol/binary/header-codec.js';
import { encodeFrame, FrameDecoder } from '../src/protocol/tcp/frame.js';
import { decodeMessage, encodeMessage } from '../src/protocol/tcp/messages.js';

export interface CodecResult { name: string; eventsPerSec: number; rme: number }

const event: MeshEvent = {
  attributes: { specversion: '1.0', id: 'a1b2c3d4-0001', source: '/bench/codec', type: 'bench.event', subject: 'codec', datacontenttype: 'application/octet-stream', time: '2026-01-01T00:00:00Z' },
  data: new Uint8Array(1024).fill(0x61),
};
let sink = 0;

export async function benchCodecs(options: { time?: number } = {}): Promise<CodecResult[]> {
  const bench = new Bench({ time: options.time ?? 500, warmupTime: 100 });
  const perIteration = new Map<string, number>();
  const add = (name: string, events: number, fn: () => void): void => { perIteration.set(name, events); bench.add(name, fn); };

  const stored = encodeEvent(event);
  add('core event encode', 1, () => { sink ^= encodeEvent(event).length; });
  add('core event decode', 1, () => { sink ^= decodeEvent(stored).data!.length; });

  const msg = encodeMessage('codec', event);
  const frame = encodeFrame({ cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, seq: '1', properties: msg.properties }, msg.body);
  add('EventMesh TCP encode (message + frame)', 1, () => {
    const m = encodeMessage('codec', event);
    sink ^= encodeFrame({ cmd: 'ASYNC_MESSAGE_TO_SERVER', code: 0, seq: '1', properties: m.properties }, m.body).length;
  });
  add('EventMesh TCP decode (frame + message)', 1, () => {
    const d = new FrameDecoder();
    d.push(frame);
    const f = d.next()!;
    sink ^= decodeMessage(f.header!.properties, f.header!.seq, f.body).event.attributes.id!.toString().length;
  });

  const batch = Array.from({ length: 64 }, (_, i) => ({ attributes: { ...event.attributes, id: `e${i}` }, data: event.data }));
  const writer = new BinaryWriter(new HeaderCodec());
  const publishFrame = (): Uint8Array => {
    writer.frame(F.PUBLISH, { id: 1, topic: 'codec', events: batch.map((e) => e.attributes) }, batch.map((e) => e.data));
    return writer.take()!;
  };
  const bytes = publishFrame();
  add('binary PUBLISH encode (64 events)', 64, () => { sink ^= publishFrame().length; });
  add('binary PUBLISH decode (64 events)', 64, () => {
    const d = new BinaryDecoder({ maxFrameBytes: 1 << 24, preamble: false });
    const codec = new HeaderCodec();
    for (const f of d.push(bytes)) sink ^= (codec.decode(f.header) as { events: unknown[] }).events.length;
  });

  await bench.run();
  if (sink === 0.5) console.log(sink); // keeps the results observable
  return bench.tasks.map((t) => {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`${t.name}: ${r.state}`);
    return { name: t.name, eventsPerSec: Math.round(r.throughput.mean * perIteration.get(t.name)!), rme: r.throughput.rme };
  });
}
