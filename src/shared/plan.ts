import type { Plan, PlanRow, Strategy } from './generation'

/**
 * How many synthetic images each class gets, with imbalanced-learn's sampling_strategy semantics
 * for over-sampling (every class but the majority, the minority only, all, or explicit totals;
 * ties as imbalanced-learn breaks them, checked against its answers in test/unit/plan.test.ts),
 * then capped at `maxRatio` synthetic images per real one so a class of 10 real images does not
 * become 990 synthetic ones unless the person asks for it. Pure, so the renderer can show the same
 * plan live that the core will run.
 */
export function planGeneration(
  classes: { name: string; real: number }[],
  strategy: Strategy,
  maxRatio: number | null,
): Plan {
  const counts = classes.map((c) => c.real)
  const majority = Math.max(0, ...counts)
  const present = counts.filter((n) => n > 0)
  const minority = present.length ? Math.min(...present) : 0
  // As imbalanced-learn picks them (min/max over a dict in label order): on a tie the first class
  // in class order is the majority or the minority, the others are not.
  const majorityIndex = counts.findIndex((n) => n > 0 && n === majority)
  const minorityIndex = counts.findIndex((n) => n > 0 && n === minority)
  // Own keys only: a class named "constructor" must not find Object.prototype.constructor.
  const targetOf = (name: string): number | undefined =>
    strategy.kind === 'targets' && Object.hasOwn(strategy.targets, name)
      ? strategy.targets[name]
      : undefined
  if (strategy.kind === 'targets') {
    const known = new Set(classes.map((c) => c.name))
    const unknown = Object.keys(strategy.targets).filter((k) => !known.has(k))
    if (unknown.length)
      throw new PlanError(
        `No class named ${unknown.map((u) => JSON.stringify(u)).join(', ')}; the classes are: ${classes.map((c) => c.name).join(', ')}.`,
      )
    for (const c of classes) {
      const problem = targetProblem(c, targetOf(c.name))
      if (problem) throw new PlanError(problem)
    }
  }
  const rows: PlanRow[] = classes.map((c, classIndex) => {
    let target = c.real
    if (c.real > 0) {
      if (strategy.kind === 'targets') target = targetOf(c.name) ?? c.real
      else if (strategy.kind === 'all') target = majority
      else if (strategy.kind === 'not-majority' && classIndex !== majorityIndex) target = majority
      else if (strategy.kind === 'not-minority' && classIndex !== minorityIndex) target = majority
      else if (strategy.kind === 'minority' && classIndex === minorityIndex) target = majority
    }
    const wanted = Math.max(0, target - c.real)
    const cap = maxRatio === null ? Infinity : Math.floor(maxRatio * c.real)
    const toGenerate = Math.min(wanted, cap)
    return {
      className: c.name,
      classIndex,
      real: c.real,
      target,
      toGenerate,
      capped: toGenerate < wanted,
      total: c.real + toGenerate,
    }
  })
  return { strategy, maxRatio, rows, toGenerate: rows.reduce((a, r) => a + r.toGenerate, 0) }
}

/** What is wrong with one class's target total, or null when it can be planned. */
function targetProblem(c: { name: string; real: number }, t: unknown): string | null {
  if (t === undefined) return null
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
    return `The target for ${c.name} must be a whole number of images (got ${t === '' || t === null ? 'nothing' : String(t)}).`
  if (t < c.real)
    return `The target for ${c.name} (${t}) is below its ${c.real} real images; generation only adds images.`
  return null
}

/**
 * The plan as the generate panel shows it while targets are typed: a target that cannot be
 * planned is that row's problem (its class gets nothing until it is fixed) and every other row
 * keeps its plan. `error` is about the whole plan (a target for a class that does not exist).
 */
export function planByRow(
  classes: { name: string; real: number }[],
  strategy: Strategy,
  maxRatio: number | null,
): { plan: Plan; rowErrors: (string | null)[]; error: string | null } {
  const rowErrors: (string | null)[] = classes.map(() => null)
  let usable = strategy
  if (strategy.kind === 'targets') {
    const targets: Record<string, number> = {}
    classes.forEach((c, i) => {
      if (!Object.hasOwn(strategy.targets, c.name)) return
      const t = strategy.targets[c.name]
      rowErrors[i] = targetProblem(c, t)
      if (!rowErrors[i]) targets[c.name] = t
    })
    const known = new Set(classes.map((c) => c.name))
    for (const [name, t] of Object.entries(strategy.targets))
      if (!known.has(name)) targets[name] = t
    usable = { kind: 'targets', targets }
  }
  try {
    return { plan: planGeneration(classes, usable, maxRatio), rowErrors, error: null }
  } catch (err) {
    if (!(err instanceof PlanError)) throw err
    const empty = planGeneration(classes, { kind: 'targets', targets: {} }, maxRatio)
    return { plan: { ...empty, strategy }, rowErrors, error: err.message }
  }
}

export class PlanError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PlanError'
  }
}

/**
 * Parses the CLI's --strategy: `not-majority`, `not-minority`, `minority`, `all`, or
 * `CLASS=N,CLASS=N` (class names may contain spaces; a name containing '=' or ',' cannot be given
 * this way, nor `__proto__`, which no JavaScript object can carry as a plain key).
 */
export function parseStrategy(text: string): Strategy {
  const t = text.trim()
  const named = t.toLowerCase().replace(/[\s_]+/g, '-')
  if (
    named === 'not-majority' ||
    named === 'not-minority' ||
    named === 'minority' ||
    named === 'all'
  )
    return { kind: named }
  const targets: Record<string, number> = Object.create(null) as Record<string, number>
  for (const part of t.split(',')) {
    const m = /^(.+)=\s*(\d+)\s*$/.exec(part)
    if (!m)
      throw new PlanError(
        `Unknown strategy ${JSON.stringify(text)}: use not-majority, not-minority, minority, all, or CLASS=N,CLASS=N.`,
      )
    const name = m[1].trim()
    if (name === '__proto__')
      throw new PlanError(
        '"__proto__" cannot be used as a class name in a strategy; rename that class folder and import it again.',
      )
    targets[name] = Number(m[2])
  }
  return { kind: 'targets', targets }
}

export function describeStrategy(s: Strategy): string {
  if (s.kind !== 'targets') return s.kind
  return Object.entries(s.targets)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}
