import type { MethodName, MethodResults, ParsedArgs } from '../../shared/contract'
import { AppError } from '../../shared/result'
import type { GenerationEvent } from '../../shared/generation'
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
    'samples.decide': ({ decisions }) => {
      const { touched, previous } = samples.decide(decisions)
      let updated = 0
      for (const [generationId, ids] of touched) {
        updated += ids.length
        for (const status of ['accepted', 'rejected'] as const) {
          const set = new Set(decisions.filter((d) => d.status === status).map((d) => d.id))
          const these = ids.filter((i) => set.has(i))
          if (these.length) emit({ type: 'decided', generationId, ids: these, status })
        }
      }
      return { updated, previous }
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
