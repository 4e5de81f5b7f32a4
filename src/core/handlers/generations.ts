import type { MethodName, MethodResults, ParsedArgs } from '../../shared/contract'
import { AppError } from '../../shared/result'
import { classBalance, type GenerationEvent } from '../../shared/generation'
import type { GenerationsRepo } from '../db/generations-repo'
import type { SamplesRepo } from '../db/samples-repo'
import type { GenerationManager } from '../jobs/generation-jobs'

type GenMethods = Extract<MethodName, `generations.${string}` | `samples.${string}`>
export type GenHandlers = {
  [M in GenMethods]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** Contract methods for class-balanced generation and the review of its samples. */
export function genHandlers(
  gens: GenerationManager,
  repo: GenerationsRepo,
  samples: SamplesRepo,
  emit: (e: GenerationEvent) => void,
): GenHandlers {
  const classNames = (generationId: number): string[] => {
    const names = repo.classNames(generationId)
    if (!names) throw new AppError('not_found', `No generation with id ${generationId}.`)
    return names
  }
  return {
    'generations.plan': ({ runId, strategy, maxRatio }) => gens.plan(runId, strategy, maxRatio),
    'generations.start': (a) => gens.start(a),
    'generations.list': (where) => {
      gens.mustExist(where)
      return gens.list(where)
    },
    'generations.get': ({ generationId }) => gens.get(generationId),
    'generations.cancel': ({ generationId }) => {
      gens.get(generationId)
      return { cancelled: gens.cancel(generationId) }
    },
    'generations.refill': ({ generationId, className }) => gens.refill(generationId, className),
    'generations.delete': ({ generationId }) => {
      gens.get(generationId)
      gens.delete(generationId)
      return { deleted: true as const }
    },
    'samples.list': ({ offset, limit, ...f }) =>
      samples.samples(f.generationId, f, offset, limit, classNames(f.generationId)),
    'samples.ids': (f) => {
      classNames(f.generationId)
      return { ids: samples.sampleIds(f.generationId, f) }
    },
    'samples.get': ({ sampleId }) => {
      const s = samples.sample(sampleId)
      if (!s) throw new AppError('not_found', `No sample with id ${sampleId}.`)
      const g = gens.get(s.generationId)
      return {
        ...s,
        className: g.classNames[s.classIndex] ?? '?',
        provenance: { runId: g.runId, checkpoint: g.checkpoint, temperature: g.temperature },
      }
    },
    'samples.decide': ({ decisions, dryRun, limit }) => {
      const state = new Map(samples.states(decisions.map((d) => d.id)).map((s) => [s.id, s]))
      // the last decision on a sample wins, as it would when written one after another
      const last = new Map(decisions.filter((d) => state.has(d.id)).map((d) => [d.id, d]))
      let chosen = [...last.values()]
      const byGeneration = new Map<number, typeof chosen>()
      for (const d of chosen) {
        const g = state.get(d.id)!.generationId
        byGeneration.set(g, [...(byGeneration.get(g) ?? []), d])
      }
      const summaries = new Map([...byGeneration.keys()].map((g) => [g, gens.get(g)]))
      if (limit === 'plan') {
        chosen = []
        for (const [g, list] of byGeneration) {
          const summary = summaries.get(g)!
          const accepted = new Map(summary.classes.map((c) => [c.classIndex, c.accepted]))
          const rejects = list.filter((d) => d.status === 'rejected')
          for (const d of rejects) {
            const s = state.get(d.id)!
            if (s.status === 'accepted')
              accepted.set(s.classIndex, (accepted.get(s.classIndex) ?? 0) - 1)
          }
          const accepts = list
            .filter((d) => d.status === 'accepted' && state.get(d.id)!.status !== 'accepted')
            .sort((a, b) => {
              const x = state.get(a.id)!
              const y = state.get(b.id)!
              return y.confidence - x.confidence || y.novelty - x.novelty || a.id - b.id
            })
          const kept = accepts.filter((d) => {
            const c = state.get(d.id)!.classIndex
            const planned = summary.plan.rows.find((r) => r.classIndex === c)?.toGenerate ?? 0
            if ((accepted.get(c) ?? 0) >= planned) return false
            accepted.set(c, (accepted.get(c) ?? 0) + 1)
            return true
          })
          chosen.push(...rejects, ...kept)
        }
      }
      const classes = [...summaries].flatMap(([g, summary]) =>
        classBalance(
          g,
          summary.plan,
          summary.classes,
          chosen
            .filter((d) => state.get(d.id)!.generationId === g)
            .map((d) => ({
              classIndex: state.get(d.id)!.classIndex,
              from: state.get(d.id)!.status,
              to: d.status,
            })),
        ),
      )
      if (dryRun) return { updated: 0, previous: [], classes }
      const { touched, previous } = samples.decide(chosen)
      let updated = 0
      for (const [generationId, ids] of touched) {
        updated += ids.length
        for (const status of ['accepted', 'rejected'] as const) {
          const set = new Set(chosen.filter((d) => d.status === status).map((d) => d.id))
          const these = ids.filter((i) => set.has(i))
          if (these.length) emit({ type: 'decided', generationId, ids: these, status })
        }
      }
      return { updated, previous, classes }
    },
  }
}

/** A run's or dataset's generations go with it (rows and sample files). */
export function deleteGenerations(
  gens: GenerationManager,
  where: { runId?: number; datasetId?: number },
): void {
  const list = gens.list(where)
  if (list.some((g) => gens.isLive(g.id)))
    throw new AppError('conflict', 'Cancel the running generation first.')
  for (const g of list) gens.delete(g.id)
}
