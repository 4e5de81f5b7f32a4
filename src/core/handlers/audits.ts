import type { MethodName, MethodResults, ParsedArgs } from '../../shared/contract'
import { AppError } from '../../shared/result'
import type { AuditsRepo } from '../db/audits-repo'
import type { DatasetsRepo } from '../db/datasets-repo'
import type { OverridesRepo } from '../db/overrides-repo'
import type { AuditManager } from '../jobs/audit-jobs'

type AuditMethods = Extract<
  MethodName,
  `audits.${string}` | 'datasets.relabel' | 'datasets.exclude' | 'datasets.overrides'
>
export type AuditHandlers = {
  [M in AuditMethods]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** Contract methods of audits and of the person's relabels and exclusions. */
export function auditHandlers(ctx: {
  audits: AuditManager
  auditsRepo: AuditsRepo
  overrides: OverridesRepo
  datasets: DatasetsRepo
}): AuditHandlers {
  const dataset = (id: number) => {
    const ds = ctx.datasets.get(id)
    if (!ds) throw new AppError('not_found', `No dataset with id ${id}.`)
    return ds
  }
  /** A dataset a person may change: not while a re-import rewrites its images. */
  const settled = (id: number) => {
    const ds = dataset(id)
    if (ds.status === 'importing')
      throw new AppError(
        'conflict',
        'This dataset is being imported again; change its labels once the import ends.',
      )
    return ds
  }
  const changed = (datasetId: number, imageId: number) => ({
    override: ctx.overrides.get(imageId),
    dataset: dataset(datasetId),
  })
  return {
    'audits.start': (a) => ctx.audits.start(a),
    'audits.latest': ({ runId }) => ctx.audits.latest(runId),
    'audits.get': ({ auditId }) => ctx.audits.get(auditId),
    'audits.cancel': ({ auditId }) => ({ cancelled: ctx.audits.cancel(auditId) }),
    'audits.images': ({ auditId, sort, order, suspectsOnly, includeExcluded, offset, limit }) => {
      const a = ctx.audits.get(auditId)
      if (a.status !== 'completed')
        throw new AppError('conflict', `Audit ${auditId} is ${a.status}; it has no scores to list.`)
      const all = ctx.auditsRepo
        .images(auditId, sort)
        .filter(
          (im) =>
            (includeExcluded || !im.excluded) && (!suspectsOnly || im.suggestedClass !== im.class),
        )
      if (order === 'asc') all.reverse()
      return { total: all.length, items: all.slice(offset, offset + limit) }
    },
    'datasets.relabel': ({ datasetId, path, imageId, className, undo }) => {
      settled(datasetId)
      const im = ctx.overrides.image(datasetId, { path, imageId })
      if (undo) ctx.overrides.undoRelabel(datasetId, { imageId: im.id })
      else ctx.overrides.relabel(datasetId, { imageId: im.id }, className!)
      return changed(datasetId, im.id)
    },
    'datasets.exclude': ({ datasetId, path, imageId, undo }) => {
      settled(datasetId)
      const im = ctx.overrides.image(datasetId, { path, imageId })
      ctx.overrides.exclude(datasetId, { imageId: im.id }, !undo)
      return changed(datasetId, im.id)
    },
    'datasets.overrides': ({ datasetId }) => {
      dataset(datasetId)
      return ctx.overrides.list(datasetId)
    },
  }
}
