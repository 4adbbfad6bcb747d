// The EventMesh TCP protocol on the shared TCP port (src/protocol/tcp-listener.ts): frames
// start with the magic "EventMesh" (spec T2). Each accepted connection is one session (T26).
import type { TcpProtocol } from '../types.js';
import { MAGIC } from './frame.js';
import { EventMeshTcpSession } from './session.js';

export const eventMeshTcp: TcpProtocol = {
  name: 'eventmesh-tcp',
  magic: MAGIC,
  accept(socket, first, ctx) {
    const c = ctx.config;
    return new EventMeshTcpSession(socket, first, ctx, {
      maxFrameBytes: c.limits.maxFrameBytes,
      maxHeaderBytes: c.tcp.maxHeaderBytes,
      legacyLength: c.tcp.legacyLength,
      idleTimeoutMs: c.tcp.idleTimeoutMs,
      maxPendingPublishes: c.tcp.maxPendingPublishes,
      maxPendingRequests: c.tcp.maxPendingRequests,
      requestTimeoutMs: c.delivery.requestTimeoutMs,
    });
  },
};
