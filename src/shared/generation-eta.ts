/**
 * How far a generation is and when it will end, from what it has tried and accepted so far.
 *
 * A generation works class by class: each class tries samples until its count is accepted or its
 * try budget is spent. Samples are tried at a steady pace (decode and score cost the same whether
 * a sample passes or not), so the time left is the tries still expected divided by the try rate,
 * and the tries still expected come from each class's acceptance rate: a class that accepts one
 * sample in twenty needs twenty tries per missing sample, and one that accepts none runs to the
 * end of its budget. That stays true while the filters reject almost everything, where a rate of
 * accepted samples alone says 0 per second and no ETA at all.
 */

/** One class of a generation job, in the order the job works through them. */
export interface EtaClass {
  classIndex: number
  /** Accepted samples this job still asks of the class. */
  need: number
  /** Samples it may try for them at most. */
  limit: number
}

/** The job's counts at one moment (cumulative for the class being worked on). */
export interface EtaObservation {
  /** Seconds since the job began generating. */
  t: number
  classIndex: number
  /** Accepted so far in this class. */
  got: number
  /** Tried so far in this class. */
  tried: number
}

export interface GenerationRate {
  accepted: number
  tried: number
  /** Accepted and tried samples per second, over the last `windowSeconds`. */
  acceptedPerSecond: number
  triedPerSecond: number
  /** Seconds until the job ends (every class filled or out of tries); null: nothing to go on yet. */
  etaSeconds: number | null
  /** Accepted samples the job will have when it ends, at the acceptance rates seen so far. */
  forecastAccepted: number | null
  /** The class being worked on has had many tries and accepted none of them. */
  stalled: boolean
  /** Accepted, asked for and tried in the class being worked on. */
  classGot: number
  classNeed: number
  classTried: number
}

export const ETA_WINDOW_SECONDS = 30
/** Tries in a class with nothing accepted before it reads as not converging. */
export const STALL_TRIES = 128
/** Tries of a class's own that weigh as much as the pooled rate in its acceptance estimate. */
const PRIOR_TRIES = 32

/**
 * Rates, ETA and forecast of a generation job from its observations so far (oldest first; the
 * last one is now). Pure: the worker keeps the observations and calls this after each batch.
 */
export function generationRate(
  classes: EtaClass[],
  history: EtaObservation[],
  windowSeconds = ETA_WINDOW_SECONDS,
): GenerationRate {
  const latest = new Map<number, EtaObservation>()
  for (const o of history) latest.set(o.classIndex, o)
  const now = history.at(-1)
  const current = now ? classes.findIndex((c) => c.classIndex === now.classIndex) : 0
  let accepted = 0
  let tried = 0
  for (const o of latest.values()) {
    accepted += o.got
    tried += o.tried
  }
  const empty: GenerationRate = {
    accepted,
    tried,
    acceptedPerSecond: 0,
    triedPerSecond: 0,
    etaSeconds: null,
    forecastAccepted: null,
    stalled: false,
    classGot: 0,
    classNeed: classes[Math.max(0, current)]?.need ?? 0,
    classTried: 0,
  }
  if (!now) return empty

  // Totals over time, to take rates over a recent window (the start, 0 at 0 s, counts too).
  const totals: { t: number; accepted: number; tried: number }[] = [{ t: 0, accepted: 0, tried: 0 }]
  const running = new Map<number, EtaObservation>()
  for (const o of history) {
    running.set(o.classIndex, o)
    let a = 0
    let n = 0
    for (const r of running.values()) {
      a += r.got
      n += r.tried
    }
    totals.push({ t: o.t, accepted: a, tried: n })
  }
  const last = totals[totals.length - 1]
  let from = totals.length - 2
  while (from > 0 && last.t - totals[from - 1].t <= windowSeconds) from--
  const ref = totals[from]
  const span = last.t - ref.t
  const acceptedPerSecond = span > 0 ? (last.accepted - ref.accepted) / span : 0
  const triedPerSecond = span > 0 ? (last.tried - ref.tried) / span : 0

  // Each class's acceptance: its own rate, drawn towards the pooled one while it has few tries.
  const pooled = (accepted + 1) / (tried + 2)
  const acceptance = (got: number, n: number): number =>
    (got + PRIOR_TRIES * pooled) / (n + PRIOR_TRIES)
  let triesLeft = 0
  let forecast = accepted
  classes.forEach((c, i) => {
    if (i < current) return // done: filled or out of tries
    const seen = i === current ? now : undefined
    const got = seen?.got ?? 0
    const n = seen?.tried ?? 0
    const missing = Math.max(0, c.need - got)
    const budget = Math.max(0, c.limit - n)
    if (!missing || !budget) return
    const p = acceptance(got, n)
    const expected = Math.min(budget, Math.ceil(missing / p))
    triesLeft += expected
    forecast += Math.min(missing, p * budget)
  })
  return {
    accepted,
    tried,
    acceptedPerSecond,
    triedPerSecond,
    etaSeconds: triesLeft === 0 ? 0 : triedPerSecond > 0 ? triesLeft / triedPerSecond : null,
    forecastAccepted: Math.round(forecast),
    stalled: now.got === 0 && now.tried >= STALL_TRIES,
    classGot: now.got,
    classNeed: classes[current]?.need ?? 0,
    classTried: now.tried,
  }
}
