// The HTTP ceiling (DESIGN §6): a bare uWS server in a worker thread (as a shard runs it) that
// reads each request body and answers 200 with a small JSON body — what an HTTP adapter that did
// no work at all would do. HTTP scenarios measure it with the same load generator in the same run.
import { Worker } from 'node:worker_threads';

const SERVER = `
const { parentPort } = require('node:worker_threads');
const uWS = require(${JSON.stringify(require_resolve('@trufflesuite/uws-js-unofficial'))});
let token;
uWS.App().any('/*', (res) => {
  res.onAborted(() => {});
  res.onData((_chunk, last) => { if (last) res.cork(() => res.writeHeader('content-type', 'application/json').end('{"retCode":0}')); });
}).listen('127.0.0.1', 0, (t) => { token = t; parentPort.postMessage({ port: uWS.us_socket_local_port(t) }); });
parentPort.on('message', () => { uWS.us_listen_socket_close(token); parentPort.postMessage({ closed: true }); });
`;

function require_resolve(name: string): string {
  return (import.meta as unknown as { resolve(s: string): string }).resolve(name).replace(/^file:\/\//, '');
}

export async function withUwsCeiling<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const worker = new Worker(SERVER, { eval: true });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  try {
    return await fn(`http://127.0.0.1:${port}/`);
  } finally {
    worker.postMessage('close');
    await new Promise((r) => worker.once('message', r));
    await worker.terminate();
  }
}
