// The part of autocannon 8's API the bench uses (the package ships no types).
declare module 'autocannon' {
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    workers?: number;
  }
  interface Histogram { average: number; max: number; p50: number; p90: number; p99: number; p99_9: number; totalCount?: number }
  interface Result {
    latency: Histogram;
    requests: Histogram & { total: number };
    throughput: Histogram & { total: number };
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
