// The protocols served on the TCP port, told apart by their magic (tcp-listener.ts).
import type { TcpProtocol } from './types.js';
import { eventMeshTcp } from './tcp/server.js';
import { binaryProtocol } from './binary/server.js';

export const TCP_PROTOCOLS: readonly TcpProtocol[] = [
  eventMeshTcp,
  binaryProtocol,
];
