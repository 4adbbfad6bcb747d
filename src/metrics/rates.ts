// Upstream HTTP TPS/cost gauges (spec M6): TPS max/avg over the last 30 one-second snapshots;
// cost avg/max aggregates restart every 30 s (upstream's log printer resets them).
export class PerSecond {
  private count = 0;
  private readonly samples: number[] = [];
  constructor(private readonly keep = 30) {}
  add(n = 1): void { this.count += n; }
  /** Called once a second: closes the current second. */
  tick(): void {
    this.samples.push(this.count);
    if (this.samples.length > this.keep) this.samples.shift();
    this.count = 0;
  }
  get max(): number { return this.samples.length === 0 ? 0 : Math.max(...this.samples); }
  get avg(): number { return this.samples.length === 0 ? 0 : Math.round((this.samples.reduce((a, b) => a + b, 0) / this.samples.length) * 100) / 100; }
}

export class Cost {
  private sum = 0;
  private n = 0;
  private top = 0;
  add(ms: number): void { this.sum += ms; this.n++; if (ms > this.top) this.top = ms; }
  reset(): void { this.sum = 0; this.n = 0; this.top = 0; }
  get avg(): number { return this.n === 0 ? 0 : Math.round((this.sum / this.n) * 100) / 100; }
  get max(): number { return this.top; }
}
