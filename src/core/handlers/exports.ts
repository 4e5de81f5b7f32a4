import type { MethodName, MethodResults, ParsedArgs } from '../../shared/contract'
import { AppError } from '../../shared/result'
import type { RunsRepo } from '../db/runs-repo'
import type { ExportManager } from '../jobs/export-jobs'
import type { RunManager } from '../jobs/run-jobs'
import { absoluteFolder } from '../util/out-folder'

type ExportMethods = Extract<MethodName, `exports.${string}` | 'runs.exportGenerator'>
export type ExportHandlers = {
  [M in ExportMethods]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** Contract methods for exporting datasets and generators. */
export function exportHandlers(
  exports: ExportManager,
  runs: RunManager,
  runsRepo: RunsRepo,
): ExportHandlers {
  return {
    'exports.preview': (a) => exports.preview(a),
    'exports.start': (a) => exports.start(a),
    'exports.list': ({ datasetId }) => exports.list(datasetId),
    'exports.get': ({ exportId }) => exports.get(exportId),
    'exports.cancel': ({ exportId }) => {
      exports.get(exportId)
      return { cancelled: exports.cancel(exportId) }
    },
    'exports.resume': ({ exportId }) => exports.resume(exportId),
    'exports.cleanup': ({ exportId }) => exports.cleanup(exportId),
    'runs.exportGenerator': async ({ runId, out, checkpoint }) => {
      const folder = absoluteFolder(out)
      if (!runsRepo.get(runId)) throw new AppError('not_found', `No run with id ${runId}.`)
      try {
        const r = await runs.exportGenerator(runId, folder, checkpoint)
        return { files: r.files, checkpoint: { kind: checkpoint, epoch: r.epoch } }
      } catch (err) {
        if (err instanceof AppError) throw err
        throw new AppError('io', (err as Error).message)
      }
    },
  }
}
