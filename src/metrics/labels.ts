// The upstream label sets (spec M4) and scope names (M3: every series carries
// otel_scope_name = its meter's name). Label names are the exposed ones (dots → `_`).
import { networkInterfaces } from 'node:os';

export const TCP_SERVICE = 'org.apache.eventmesh.runtime.boot.EventMeshTCPServer';
export const HTTP_SERVICE = 'org.apache.eventmesh.runtime.boot.EventMeshHTTPServer';
export const GRPC_SERVICE = 'org.apache.eventmesh.runtime.boot.EventMeshGrpcServer';

export const TCP_LABELS = ['otel_scope_name', 'net_host_name', 'net_host_port', 'rpc_system', 'rpc_service'] as const;
export const HTTP_LABELS = ['otel_scope_name', 'http_scheme', 'http_flavor', 'net_host_name', 'net_host_port', 'rpc_system', 'rpc_service'] as const;
export const GRPC_LABELS = ['otel_scope_name', 'rpc_system', 'rpc_service', 'net_peer_name', 'net_peer_port'] as const;
/** M5: the general counters carry the TCP or the GRPC set plus the client labels. */
export const GENERAL_LABELS = [
  'otel_scope_name', 'net_host_name', 'net_host_port', 'net_peer_name', 'net_peer_port', 'rpc_system', 'rpc_service',
  'client_protocol_type', 'client_address',
] as const;

export type Labels = Record<string, string>;

/** M4 `net_host_name`: the configured host, or the first external IPv4 address when the broker
 *  binds every address (upstream `IPUtils.getLocalAddress()`), else loopback. */
export function serverIp(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function tcpLabels(host: string, port: number): Labels {
  return { otel_scope_name: 'TCP', net_host_name: host, net_host_port: String(port), rpc_system: 'TCP', rpc_service: TCP_SERVICE };
}

export function httpLabels(scheme: 'http' | 'https', host: string, port: number): Labels {
  return { otel_scope_name: 'HTTP', http_scheme: scheme, http_flavor: '1.1', net_host_name: host, net_host_port: String(port), rpc_system: 'HTTP', rpc_service: HTTP_SERVICE };
}

export function grpcLabels(host: string, port: number): Labels {
  return { otel_scope_name: 'GRPC', rpc_system: 'grpc', rpc_service: GRPC_SERVICE, net_peer_name: host, net_peer_port: String(port) };
}

/** M4 `client_address`: `unkown` (sic, upstream's spelling) when there is none. */
export function clientAddress(address: string | undefined, port?: number): string {
  if (address === undefined || address === '') return 'unkown';
  const ip = address.startsWith('::ffff:') ? address.slice(7) : address;
  return port === undefined ? ip : `${ip}:${port}`;
}
