import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { MethodName, MethodResults, ParsedArgs } from '../../shared/contract'
import { AppError } from '../../shared/result'
import { resolveImportRoot } from '../datasets/import'
import type { DatasetsRepo } from '../db/datasets-repo'
import type { RunsRepo } from '../db/runs-repo'
import type { GenerationManager } from '../jobs/generation-jobs'
import type { JobManager } from '../jobs/import-jobs'
import type { RunManager } from '../jobs/run-jobs'
import { datasetDir, sampleDatasetPath } from '../util/paths'
import { deleteGenerations } from './generations'

type DatasetMethods = Exclude<
  Extract<MethodName, `datasets.${string}` | `jobs.${string}`>,
  'datasets.relabel' | 'datasets.exclude' | 'datasets.overrides'
>
export type DatasetHandlers = {
  [M in DatasetMethods]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** Contract methods for datasets: listing, browsing, renaming and deleting them, and imports. */
export function datasetHandlers(ctx: {
  home: string
  repo: DatasetsRepo
  imports: JobManager
  runsRepo: RunsRepo
  runs: RunManager
  gens: GenerationManager
}): DatasetHandlers {
  const { home, repo, imports } = ctx
  const mustGet = (id: number) => {
    const ds = repo.get(id)
    if (!ds) throw new AppError('not_found', `No dataset with id ${id}.`)
    return ds
  }
  const startImport = async (args: ParsedArgs<'datasets.import'>): Promise<{ jobId: string }> => {
    const root = await resolveImportRoot(args.path)
    if (root === home || root.startsWith(join(home, '/'))) {
      throw new AppError(
        'invalid_argument',
        'That folder is Synthfold’s own data folder; choose a folder of images instead.',
      )
    }
    if (imports.importing(root))
      throw new AppError('conflict', 'This folder is already being imported.')
    const existing = repo.rowByRoot(root)
    const label = args.name ?? existing?.name ?? root.split(/[\\/]/).filter(Boolean).pop() ?? root
    return { jobId: imports.startImport({ ...args, path: root }, label) }
  }
  return {
    'datasets.list': () => repo.list(),
    'datasets.get': ({ id }) => mustGet(id),
    'datasets.images': ({ datasetId, classId, offset, limit }) => {
      mustGet(datasetId)
      return repo.images(datasetId, classId, offset, limit)
    },
    'datasets.skipped': ({ datasetId, offset, limit }) => {
      mustGet(datasetId)
      return repo.skipped(datasetId, offset, limit)
    },
    'datasets.rename': ({ id, name }) => {
      mustGet(id)
      repo.rename(id, name)
      return mustGet(id)
    },
    'datasets.delete': ({ id }) => {
      const ds = mustGet(id)
      if (ds.status === 'importing' || imports.importing(ds.root))
        throw new AppError('conflict', 'Cancel the running import before deleting this dataset.')
      const runs = ctx.runsRepo.list(id)
      if (runs.some((r) => ctx.runs.isLive(r.id)))
        throw new AppError(
          'conflict',
          'Cancel the training run of this dataset before deleting it.',
        )
      deleteGenerations(ctx.gens, { datasetId: id })
      for (const r of runs) ctx.runs.delete(r.id)
      repo.delete(id)
      rmSync(datasetDir(home, id), { recursive: true, force: true })
      return { deleted: true as const }
    },
    'datasets.import': (args) => startImport(args),
    'datasets.importSample': async () => {
      const path = sampleDatasetPath()
      if (!existsSync(path))
        throw new AppError(
          'not_found',
          `The sample dataset is missing from this installation (${path}).`,
        )
      const known = repo.rowByRoot(await resolveImportRoot(path))
      return startImport({ path, name: known ? undefined : 'Fashion-MNIST sample' })
    },
    'jobs.list': () => imports.list(),
    'jobs.cancel': ({ jobId }) => ({ cancelled: imports.cancel(jobId) }),
  }
}
