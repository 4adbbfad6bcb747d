// Upstream TPS gauges are recomputed once per window from counters (M7: every 30 s over the last
// 30 s, `count × 1000 / windowMs`, rounded to 2 decimals; M8: 60 s). A Window samples
// cumulative totals on an unref'd timer and keeps the last window's rates.
export class Window<K extends string> {
  private prev: Record<K, number>;
  private rates: Record<K, number>;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly totals: () => Record<K, number>, private windowMs: number) {
    this.prev = totals();
    this.rates = Object.fromEntries(Object.keys(this.prev).map((k) => [k, 0])) as Record<K, number>;
  }

  /** Starts (or restarts with a new window) the sampling timer. */
  start(windowMs = this.windowMs): void {
    this.windowMs = windowMs;
    clearInterval(this.timer);
    this.prev = this.totals();
    this.timer = setInterval(() => this.sample(), windowMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Rates of the last complete window (0 before the first). */
  get(key: K): number {
    return this.rates[key];
  }

  private sample(): void {
    const now = this.totals();
    for (const k of Object.keys(now) as K[]) {
      this.rates[k] = Math.round(((now[k] - (this.prev[k] ?? 0)) * 1000 / this.windowMs) * 100) / 100;
    }
    this.prev = now;
  }
}
