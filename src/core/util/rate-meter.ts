/** Items per second over a sliding window, and the ETA it implies. */
export class RateMeter {
  private samples: { t: number; done: number }[] = []

  constructor(private readonly windowMs = 5000) {}

  reset(): void {
    this.samples = []
  }

  update(done: number, now = Date.now()): void {
    this.samples.push({ t: now, done })
    while (this.samples.length > 2 && now - this.samples[0].t > this.windowMs) this.samples.shift()
  }

  rate(): number {
    if (this.samples.length < 2) return 0
    const a = this.samples[0]
    const b = this.samples[this.samples.length - 1]
    const dt = (b.t - a.t) / 1000
    return dt > 0 ? Math.max(0, (b.done - a.done) / dt) : 0
  }

  eta(done: number, total: number): number | null {
    const r = this.rate()
    if (total <= 0 || r <= 0) return null
    return Math.max(0, (total - done) / r)
  }
}
