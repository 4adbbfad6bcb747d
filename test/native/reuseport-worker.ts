// Worker for reuseport.test.ts: one "shard" with a net.Server on a shared SO_REUSEPORT port.
// Every accepted connection gets this worker's id byte and is closed.
import { createServer } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { boundPort, listenReusePort } from '../../src/native.js';
import { listenShared } from '../../src/shard/reuseport.js';

const { id, host, port } = workerData as { id: number; host: string; port: number };
let accepted = 0;
const server = createServer((socket) => {
  accepted++;
  socket.end(Buffer.of(id));
});

let bound: number;
if (port === 0) {
  // The first shard: pick a port with the raw addon calls, as the supervisor does.
  const fd = listenReusePort(host, 0, 511);
  bound = boundPort(fd);
  await new Promise<void>((resolve) => server.listen({ fd }, resolve));
} else {
  bound = await listenShared(server, { host, port });
}
parentPort!.postMessage({ port: bound });
parentPort!.on('message', () => {
  server.close(() => parentPort!.postMessage({ accepted }));
});
