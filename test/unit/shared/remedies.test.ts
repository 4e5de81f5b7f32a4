import { describe, expect, it } from 'vitest'
import {
  DEFAULT_FILTERS,
  NO_AUGMENT,
  type FilterReason,
  type GenerationClassCounts,
  type GenerationSummary,
} from '../../../src/shared/generation'
import { methods } from '../../../src/shared/contract'
import { planGeneration } from '../../../src/shared/plan'
import {
  describeRemedy,
  lowerTemperature,
  mainReason,
  raiseTemperature,
  relaxConfidence,
  relaxDistance,
  remedies,
  remediesOf,
} from '../../../src/shared/remedies'
import type { RunSummary } from '../../../src/shared/runs'
import { resolveSettings } from '../../../src/shared/train-settings'

const names = ['Bag', 'Coat', 'Trouser']
const real = [80, 20, 10]

/** A finished generation of a not-majority plan (cap 3) with these per-class outcomes. */
function generation(
  outcome: Record<string, { accepted: number; filtered?: Partial<Record<FilterReason, number>> }>,
  over: Partial<GenerationSummary> = {},
): GenerationSummary {
  const plan = planGeneration(
    names.map((name, i) => ({ name, real: real[i] })),
    { kind: 'not-majority' },
    3,
  )
  const classes: GenerationClassCounts[] = plan.rows.map((r) => {
    const o = outcome[r.className] ?? { accepted: r.toGenerate }
    const filtered = { 'low-confidence': 0, 'near-copy': 0, duplicate: 0, ...o.filtered }
    const rejected = filtered['low-confidence'] + filtered['near-copy'] + filtered.duplicate
    return {
      className: r.className,
      classIndex: r.classIndex,
      real: r.real,
      planned: r.toGenerate,
      generated: o.accepted + rejected,
      accepted: o.accepted,
      rejected,
      reviewed: 0,
      filtered,
      source: 'cvae',
    }
  })
  return {
    id: 4,
    runId: 2,
    datasetId: 1,
    status: 'completed',
    checkpoint: { kind: 'best', epoch: 30 },
    temperature: 1.6,
    filters: DEFAULT_FILTERS,
    plan,
    classNames: names,
    classifierAccuracy: 0.74,
    calibration: names.map((_, i) => ({
      threshold: [0.62, 0.5, 0.9][i],
      heldOut: 8,
      heldOutAccuracy: 0.75,
      pooled: false,
    })),
    parentId: null,
    augment: NO_AUGMENT,
    backend: 'wasm',
    error: null,
    note: null,
    folder: '/tmp/g4',
    createdAt: 0,
    finishedAt: 1,
    classes,
    ...over,
  }
}

function run(over: Partial<RunSummary> = {}): RunSummary {
  const settings = resolveSettings({}, { size: 28, channels: 1, imageCount: 110 })
  return {
    id: 2,
    datasetId: 1,
    status: 'completed',
    settings,
    classNames: names,
    backend: 'wasm',
    device: 'cpu',
    backendNotes: [],
    error: null,
    epochsDone: settings.epochs,
    bestValLoss: 1,
    trainImages: 99,
    valImages: 11,
    createdAt: 0,
    startedAt: 0,
    finishedAt: 1,
    checkpoints: [{ kind: 'best', epoch: 30 }],
    lastMetrics: null,
    heldOutExcluded: true,
    ...over,
  }
}

const classOf = (g: GenerationSummary, name: string): GenerationClassCounts =>
  g.classes.find((c) => c.className === name)!

describe('remedies for a class short of its plan', () => {
  it('steps the temperature and the bars by a quarter or a fifth, within limits', () => {
    expect([1.6, 1.2, 0.9, 0.7].map(lowerTemperature)).toEqual([1.2, 0.9, 0.7, 0.5])
    expect(lowerTemperature(0.5)).toBeNull()
    expect(raiseTemperature(1.6)).toBe(2)
    expect(raiseTemperature(3)).toBeNull()
    expect(relaxConfidence(0.9, 10)).toBe(0.72)
    // never down to what a random guess gives each class
    expect(relaxConfidence(0.5, 3)).toBe(0.4)
    expect(relaxConfidence(0.45, 3)).toBe(0.38)
    expect(relaxConfidence(0.38, 3)).toBeNull()
    expect(relaxDistance(0.6)).toBe(0.45)
    expect(relaxDistance(0.1)).toBeNull()
    expect(mainReason({ filtered: { 'low-confidence': 3, 'near-copy': 3, duplicate: 9 } })).toBe(
      'duplicate',
    )
    expect(mainReason({ filtered: { 'low-confidence': 0, 'near-copy': 0, duplicate: 0 } })).toBe(
      null,
    )
  })

  it('low confidence: a lower temperature, the class test a step lower, then training longer', () => {
    const g = generation({
      Trouser: { accepted: 4, filtered: { 'low-confidence': 230, 'near-copy': 6 } },
    })
    const list = remedies(g, classOf(g, 'Trouser'), run())
    expect(list.map((r) => r.kind)).toEqual(['lower-temperature', 'relax-filter', 'train-longer'])
    const [cool, relax, train] = list
    expect(cool.label).toBe('Lower temperature to 1.2')
    // the missing 26 of Trouser (real 10, planned 30, accepted 4), nothing else, from the same run
    expect(cool.action).toEqual({
      method: 'generations.start',
      args: {
        runId: 2,
        strategy: { kind: 'targets', targets: { Trouser: 36 } },
        maxRatio: 3,
        temperature: 1.2,
        checkpoint: 'best',
        filters: DEFAULT_FILTERS,
        parentId: 4,
      },
    })
    expect(
      planGeneration(
        names.map((name, i) => ({ name, real: real[i] })),
        (cool.action.args as { strategy: { kind: 'targets'; targets: Record<string, number> } })
          .strategy,
        3,
      ).rows.map((r) => r.toGenerate),
    ).toEqual([0, 0, 26])
    expect(cool.why).toContain('230 of 240 Trouser samples were rejected as low confidence')
    // Trouser's calibrated bar is 0.9: a fifth lower, as an absolute bar (the new generation has
    // only Trouser, so it is Trouser's bar)
    expect(relax.label).toBe('Relax class test to 0.72')
    expect(relax.action.method === 'generations.start' && relax.action.args.filters).toEqual({
      ...DEFAULT_FILTERS,
      minConfidence: 0.72,
    })
    expect(relax.action.method === 'generations.start' && relax.action.args.temperature).toBe(1.6)
    expect(train.action.method).toBe('runs.start')
    const settings = train.action.method === 'runs.start' ? train.action.args.settings : null
    expect(settings!.epochs).toBe(run().settings.epochs * 2)
    expect({ ...settings, epochs: 0, earlyStoppingPatience: 0 }).toEqual({
      ...run().settings,
      epochs: 0,
      earlyStoppingPatience: 0,
    })
    expect(train.label).toBe(`Train longer (${run().settings.epochs * 2} epochs)`)
    // what the buttons send is what the contract takes
    for (const r of list)
      expect(methods[r.action.method].safeParse(r.action.args).success).toBe(true)
  })

  it('near-copies and duplicates: a higher temperature or that bar lower, never training longer', () => {
    const g = generation({
      Coat: { accepted: 10, filtered: { 'near-copy': 40, 'low-confidence': 5 } },
      Trouser: { accepted: 20, filtered: { duplicate: 12 } },
    })
    const coat = remedies(g, classOf(g, 'Coat'), run())
    expect(coat.map((r) => r.label)).toEqual([
      'Raise temperature to 2',
      'Relax near-copy bar to 0.45',
    ])
    expect(coat[1].action.method === 'generations.start' && coat[1].action.args.filters).toEqual({
      ...DEFAULT_FILTERS,
      nearCopy: 0.45,
    })
    const trouser = remedies(g, classOf(g, 'Trouser'), run())
    expect(trouser.map((r) => r.label)).toEqual([
      'Raise temperature to 2',
      'Relax duplicate bar to 0.38',
    ])
  })

  it('only where it applies: a filled class, a running generation, a shortfall no filter made', () => {
    const g = generation({
      Coat: { accepted: 60 },
      Trouser: { accepted: 3, filtered: { 'low-confidence': 50 } },
    })
    expect(remedies(g, classOf(g, 'Coat'), run())).toEqual([])
    expect(remedies(g, classOf(g, 'Bag'), run())).toEqual([]) // the majority: nothing planned
    const running = { ...g, status: 'running' as const }
    expect(remedies(running, classOf(running, 'Trouser'), run())).toEqual([])
    // short because a person rejected samples (no filter reason): Refill is the remedy
    const byHand = generation({ Trouser: { accepted: 25 } })
    expect(remedies(byHand, classOf(byHand, 'Trouser'), run())).toEqual([])
    // at the lowest temperature and bar, only training is left
    const cold = generation(
      { Trouser: { accepted: 3, filtered: { 'low-confidence': 50 } } },
      { temperature: 0.5, filters: { ...DEFAULT_FILTERS, minConfidence: 0.38 } },
    )
    expect(remedies(cold, classOf(cold, 'Trouser'), run()).map((r) => r.kind)).toEqual([
      'train-longer',
    ])
    expect(remedies(cold, classOf(cold, 'Trouser'), null)).toEqual([])
    // a class made by classic augmentation: the generator's remedies do not apply
    const aug = { ...classOf(g, 'Trouser'), source: 'augment' as const }
    expect(remedies(g, aug, run())).toEqual([])
  })

  it('counts what remedies already accepted, and says what each changed', () => {
    const g = generation({ Trouser: { accepted: 4, filtered: { 'low-confidence': 100 } } })
    const trouser = classOf(g, 'Trouser')
    const [cool] = remedies(g, trouser, run(), 20)
    // 26 missing, 20 of them accepted by a remedy: 6 more
    expect(cool.action.method === 'generations.start' && cool.action.args.strategy).toEqual({
      kind: 'targets',
      targets: { Trouser: 16 },
    })
    expect(remedies(g, trouser, run(), 26)).toEqual([])
    const child = generation(
      {},
      {
        id: 9,
        parentId: 4,
        temperature: 1.2,
        filters: { ...DEFAULT_FILTERS, minConfidence: 0.72 },
        plan: planGeneration(
          names.map((name, i) => ({ name, real: real[i] })),
          { kind: 'targets', targets: { Trouser: 36 } },
          3,
        ),
      },
    )
    const other = generation({}, { id: 10, parentId: 3 })
    expect(remediesOf(g, [other, child, g], 2).map((x) => x.id)).toEqual([9])
    expect(remediesOf(g, [other, child, g], 1)).toEqual([])
    expect(describeRemedy(g, child)).toBe('temperature 1.2 (was 1.6), class test 0.72')
    expect(
      describeRemedy(g, { ...g, id: 11, filters: { ...DEFAULT_FILTERS, nearCopy: 0.45 } }),
    ).toBe('near-copy bar 0.45')
  })

  it('resumes a run that stopped early instead of starting another', () => {
    const g = generation({ Trouser: { accepted: 3, filtered: { 'low-confidence': 50 } } })
    const stopped = run({ status: 'cancelled', epochsDone: 12 })
    const train = remedies(g, classOf(g, 'Trouser'), stopped).at(-1)!
    expect(train.label).toBe(`Resume training (epoch 12 of ${stopped.settings.epochs})`)
    expect(train.action).toEqual({ method: 'runs.resume', args: { runId: 2 } })
    // a diverged run is not trained on
    const diverged = remedies(g, classOf(g, 'Trouser'), run({ status: 'diverged' }))
    expect(diverged.map((r) => r.kind)).not.toContain('train-longer')
  })
})
