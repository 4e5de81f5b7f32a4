import { describe, expect, it } from 'vitest'
import {
  generationRate,
  STALL_TRIES,
  type EtaClass,
  type EtaObservation,
} from '../../../src/shared/generation-eta'

/**
 * A generation job as the worker runs it: class by class, `perSecond` tries a second in batches
 * of `batch`, sample i of a class accepted when `accepts(class, i)`, until the class has its count
 * or has spent its tries. Returns every observation and the second the job really ended.
 */
function simulate(
  classes: EtaClass[],
  accepts: (classIndex: number, i: number) => boolean,
  perSecond: number,
  batch = 16,
): { history: EtaObservation[]; end: number } {
  const history: EtaObservation[] = []
  let t = 0
  for (const c of classes) {
    let got = 0
    let tried = 0
    while (got < c.need && tried < c.limit) {
      const n = Math.min(batch, c.limit - tried)
      for (let i = 0; i < n && got < c.need; i++) if (accepts(c.classIndex, tried + i)) got++
      tried += n
      t += n / perSecond
      history.push({ t, classIndex: c.classIndex, got, tried })
    }
  }
  return { history, end: t }
}

describe('generation ETA', () => {
  it('says nothing before the first batch', () => {
    const r = generationRate([{ classIndex: 0, need: 10, limit: 80 }], [])
    expect(r.etaSeconds).toBeNull()
    expect(r.forecastAccepted).toBeNull()
    expect(r.tried).toBe(0)
  })

  it('is true while the filters reject most samples', () => {
    // one sample in five passes; 20 tries a second; three classes of 30 each
    const classes = [0, 1, 2].map((classIndex) => ({ classIndex, need: 30, limit: 240 }))
    const { history, end } = simulate(classes, (_c, i) => i % 5 === 4, 20)
    expect(end).toBeGreaterThan(20)
    for (const k of [4, Math.floor(history.length / 2), history.length - 3]) {
      const r = generationRate(classes, history.slice(0, k + 1))
      const truth = end - history[k].t
      expect(r.etaSeconds).not.toBeNull()
      expect(Math.abs(r.etaSeconds! - truth)).toBeLessThan(Math.max(2, truth * 0.25))
      // an accepted-only rate would be 4 a second; the tries run at 20
      expect(r.triedPerSecond).toBeCloseTo(20, 5)
      expect(r.acceptedPerSecond).toBeGreaterThan(2)
      expect(r.acceptedPerSecond).toBeLessThan(6)
      expect(r.forecastAccepted).toBeGreaterThanOrEqual(85)
      expect(r.stalled).toBe(false)
    }
  })

  it('runs to the end of the try budget when nothing passes, and says it is not converging', () => {
    const classes = [{ classIndex: 3, need: 20, limit: 320 }]
    const { history, end } = simulate(classes, () => false, 16)
    expect(end).toBe(20)
    const early = generationRate(classes, history.slice(0, 4)) // 64 tried at 4 s
    expect(early.acceptedPerSecond).toBe(0)
    // an ETA from accepted samples alone would be "never"; the budget ends in 16 s
    expect(early.etaSeconds).toBeCloseTo(16, 5)
    expect(early.stalled).toBe(false)
    const late = generationRate(classes, history.slice(0, STALL_TRIES / 16))
    expect(late.classTried).toBe(STALL_TRIES)
    expect(late.stalled).toBe(true)
    expect(late.forecastAccepted).toBe(0)
    expect(late.etaSeconds).toBeCloseTo(end - STALL_TRIES / 16, 5)
  })

  it('forecasts a shortfall from a class that passes rarely, and counts the classes after it', () => {
    // class 0 accepts 1 in 40 (needs 30, may try 240: about 6 will pass); class 1 accepts all
    const classes = [
      { classIndex: 0, need: 30, limit: 240 },
      { classIndex: 1, need: 30, limit: 240 },
    ]
    const { history, end } = simulate(classes, (c, i) => c === 1 || i % 40 === 39, 10)
    const k = history.findIndex((o) => o.tried >= 160)
    const r = generationRate(classes, history.slice(0, k + 1))
    expect(r.classGot).toBe(4)
    expect(r.classNeed).toBe(30)
    // what is left of class 0's budget, and class 1 at the pooled rate (which is low): the
    // estimate errs long, never short, while class 1 is unseen
    expect(r.etaSeconds).toBeGreaterThanOrEqual(end - history[k].t - 1)
    expect(r.forecastAccepted).toBeLessThan(60)
    // once class 1 is under way its own rate takes over
    const j = history.findIndex((o) => o.classIndex === 1 && o.tried >= 16)
    const s = generationRate(classes, history.slice(0, j + 1))
    expect(Math.abs(s.etaSeconds! - (end - history[j].t))).toBeLessThan(2)
    expect(s.forecastAccepted).toBe(36)
  })

  it('takes rates over the recent window, so a slowdown shows', () => {
    const classes = [{ classIndex: 0, need: 1000, limit: 8000 }]
    const history: EtaObservation[] = []
    let tried = 0
    for (let t = 1; t <= 90; t++) {
      tried += t <= 60 ? 20 : 5
      history.push({ t, classIndex: 0, got: Math.floor(tried / 2), tried })
    }
    const r = generationRate(classes, history)
    expect(r.triedPerSecond).toBeCloseTo(5, 5)
    expect(r.acceptedPerSecond).toBeCloseTo(2.5, 1)
  })

  it('is done when every class is filled', () => {
    const classes = [{ classIndex: 0, need: 8, limit: 64 }]
    const { history } = simulate(classes, () => true, 50, 8)
    const r = generationRate(classes, history)
    expect(r.etaSeconds).toBe(0)
    expect(r.accepted).toBe(8)
    expect(r.forecastAccepted).toBe(8)
  })
})
