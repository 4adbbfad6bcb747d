// The protocols served on the TCP port, told apart by their magic (tcp-listener.ts).
import type { TcpProtocol } from './types.js';

export const TCP_PROTOCOLS: readonly TcpProtocol[] = [];
