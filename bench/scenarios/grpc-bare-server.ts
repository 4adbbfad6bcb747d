// The gRPC ceiling (DESIGN §6): a bare grpc-js service of the same proto and codec as evmesh's
// gRPC port, run like evmesh's (one worker thread per shard, SO_REUSEPORT listener, connection
// injector), that does no work: publish/batchPublish answer a fixed CloudEvent, subscribeStream
// writes a prebuilt 1 KiB event as fast as the stream takes it. Worker entry; workerData.port.
import { createServer } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { Server, ServerCredentials, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall } from '@grpc/grpc-js';
import { listenShared } from '../../src/shard/reuseport.js';
import { service } from '../../src/protocol/grpc/proto.js';
import { fromMeshEvent, type PbCloudEvent } from '../../src/protocol/grpc/cloudevent.js';
import { plain } from '../../src/protocol/grpc/status.js';
import { BENCH_ATTRIBUTES, BENCH_DATA } from './grpc-load.js';

const answer = plain('SUCCESS', 'SendResult[topic=bench, messageId=0-0]');
const push = fromMeshEvent({ attributes: { specversion: '1.0', id: 'bench', source: '/bench', type: 'bench.event', ...BENCH_ATTRIBUTES }, data: BENCH_DATA }, { reqeventmesh2ctimestamp: String(Date.now()) });

const unary = (_call: ServerUnaryCall<unknown, PbCloudEvent>, cb: sendUnaryData<PbCloudEvent>): void => cb(null, answer);

function stream(call: ServerDuplexStream<PbCloudEvent, PbCloudEvent>): void {
  let open = true;
  const pump = (): void => {
    while (open && call.write(push)) { /* until the stream's buffer is full */ }
    if (open) call.once('drain', pump);
  };
  call.once('data', pump);
  call.on('cancelled', () => { open = false; });
  call.on('error', () => { open = false; });
}

const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
server.addService(service('PublisherService'), { publish: unary, batchPublish: unary });
server.addService(service('ConsumerService'), { subscribeStream: stream });
const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
const listener = createServer((socket) => { socket.setNoDelay(true); injector.injectConnection(socket); });
await listenShared(listener, { host: '127.0.0.1', port: (workerData as { port: number }).port });
parentPort!.postMessage('ready');
parentPort!.on('message', () => {
  listener.close();
  injector.destroy();
  server.forceShutdown();
  parentPort!.close();
});
