// startBroker: the one entry the CLI (and tests, and embedders) use to run evmesh.
// Placeholder signature; the sharded runtime is wired in by src/shard + src/core.
export interface BrokerPorts {
  tcp?: number;
  http?: number;
  grpc?: number;
  admin?: number;
  metrics?: number;
}

export interface RunningBroker {
  /** The ports actually bound (port 0 in config → the picked port). Only listeners that exist. */
  readonly ports: BrokerPorts;
  /** Stop accepting, drain in-flight work, flush + fsync storage, stop shards. */
  stop(): Promise<void>;
}
