// The HTTP ceiling (DESIGN §6): a bare uWS app in a worker thread that reads each POST body and
// answers a small JSON body, as evmesh answers a publish — same port sharing (SO_REUSEPORT, one
// app per worker), no broker behind it. Also serves as the webhook sink: it counts requests and
// reports the count when asked.
import { parentPort, workerData } from 'node:worker_threads';
import { uws } from '../../src/protocol/http/uws.js';

const { port } = workerData as { port: number };
let count = 0;
const app = uws.App().any('/*', (res) => {
  res.onAborted(() => {});
  res.onData((_chunk, isLast) => {
    if (!isLast) return;
    count++;
    res.cork(() => { res.writeHeader('content-type', 'application/json').end('{"topic":"bench","partition":0,"offset":0}'); });
  });
});
app.listen('127.0.0.1', port, (s) => parentPort!.postMessage(s ? { t: 'ready' } : { t: 'error' }));
parentPort!.on('message', (m: { t: string }) => {
  if (m.t === 'count') parentPort!.postMessage({ t: 'count', count, at: performance.timeOrigin + performance.now() });
  if (m.t === 'stop') { (app as unknown as { close(): void }).close(); process.exit(0); }
});
