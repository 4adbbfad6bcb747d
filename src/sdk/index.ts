// The evmesh client SDK (docs/sdk.md).
export {
  EvmeshClient, type ClientDelivery, type ClientSubscription, type EvmeshClientOptions, type ReconnectOptions, type SubscribeParams,
} from './evmesh-client.js';
export { EventMeshTcpClient, type EventMeshTcpClientOptions, type PushContext, type PushHandler } from './eventmesh-tcp.js';
