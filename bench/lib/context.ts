// What run.ts hands every scenario (the second argument of SCENARIOS[name].run).
export interface BenchContext {
  /** --duration, in ms: each measured phase runs this long. */
  readonly durationMs: number;
  /** --target URL: run against this external EventMesh-compatible broker instead of a fresh
   *  evmesh (tcp://host:port, http://host:port, grpc://host:port). */
  readonly target?: URL | undefined;
  /** --target-metrics URL: the external broker's Prometheus endpoint, if it has one (upstream
   *  HEAD never starts its exporter, spec M2). */
  readonly targetMetrics?: string | undefined;
  /** A short note shown on the progress line (what the scenario is doing now). */
  progress(note: string): void;
}

/** A context for calling a scenario outside run.ts (tests, `node bench/scenarios/x.ts`). */
export function plainContext(durationMs: number, extra: Partial<BenchContext> = {}): BenchContext {
  return { durationMs, progress: () => {}, ...extra };
}
