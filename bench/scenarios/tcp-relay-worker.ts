// The publish → push latency ceiling of tcp-binary (DESIGN §6): a worker thread (like a shard)
// that relays whole binary-protocol frames from every publisher connection to the one subscriber
// connection, as they arrive — what a perfect broker that stores nothing and routes nothing adds
// to the same generator, framing, sockets and decoding. Two ports: publishers, subscriber.
import { Buffer } from 'node:buffer';
import { createServer, type Socket } from 'node:net';
import { parentPort } from 'node:worker_threads';
import { FrameDecoder } from '../../src/protocol/binary/frame-decoder.js';
import { FRAME_OVERHEAD } from '../../src/protocol/binary/frames.js';

let subscriber: Socket | undefined;

const publishers = createServer((s) => {
  s.setNoDelay(true);
  const decoder = new FrameDecoder({ maxFrameBytes: 64 << 20, preamble: false });
  s.on('data', (chunk: Buffer) => {
    const frames = decoder.push(chunk);
    if (frames.length === 0 || subscriber === undefined) return;
    const out = subscriber;
    out.cork();
    for (const f of frames) {
      // The frame as it came: its 9-byte prefix again, then the header and payload views.
      let plen = 0;
      for (const p of f.payload) plen += p.length;
      const prefix = Buffer.allocUnsafe(FRAME_OVERHEAD);
      prefix.writeUInt32BE(5 + f.header.length + plen, 0);
      prefix[4] = f.type;
      prefix.writeUInt32BE(f.header.length, 5);
      out.write(prefix);
      out.write(f.header);
      for (const p of f.payload) out.write(p);
    }
    out.uncork();
  });
  s.on('error', () => {});
});

const subscribers = createServer((s) => {
  s.setNoDelay(true);
  s.on('error', () => {});
  subscriber = s;
});

const listen = (server: typeof publishers) => new Promise<number>((resolve) => {
  server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
});

const ports = { publish: await listen(publishers), subscribe: await listen(subscribers) };
parentPort!.postMessage(ports);
parentPort!.on('message', (m: string) => {
  if (m === 'stop') {
    publishers.close();
    subscribers.close();
    process.exit(0);
  }
});
