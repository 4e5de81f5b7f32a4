import { cpus } from 'node:os'
import { absoluteFolder, isEmptyFolder } from '../util/out-folder'
import type { MethodName, MethodResults, ParsedArgs } from '../../shared/contract'
import { AppError } from '../../shared/result'
import { channelCount } from '../../shared/types'
import { planTraining, secondsPerEpoch } from '../../shared/train-settings'
import { trainingImages } from '../../shared/held-out'
import type { RunsRepo } from '../db/runs-repo'
import type { DatasetsRepo } from '../db/datasets-repo'
import type { RunManager } from '../jobs/run-jobs'

type RunMethods = Exclude<
  Extract<MethodName, `runs.${string}` | 'system.doctor'>,
  'runs.exportGenerator'
>
export type RunHandlers = {
  [M in RunMethods]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** Contract methods for training runs, sampling and the backend report. */
export function runHandlers(runs: RunManager, repo: RunsRepo, datasets: DatasetsRepo): RunHandlers {
  const mustGet = (runId: number) => {
    const run = repo.get(runId)
    if (!run) throw new AppError('not_found', `No run with id ${runId}.`)
    return run
  }
  return {
    'runs.start': ({ datasetId, settings, backend }) => runs.start(datasetId, settings, backend),
    'runs.resume': ({ runId, backend }) => runs.resume(runId, backend),
    'runs.cancel': ({ runId }) => {
      mustGet(runId)
      return { cancelled: runs.cancel(runId) }
    },
    'runs.list': ({ datasetId }) => {
      if (datasetId !== undefined && !datasets.get(datasetId))
        throw new AppError('not_found', `No dataset with id ${datasetId}.`)
      return repo.list(datasetId)
    },
    'runs.get': ({ runId }) => ({ run: mustGet(runId), epochs: repo.epochs(runId) }),
    'runs.delete': ({ runId }) => {
      mustGet(runId)
      runs.delete(runId)
      return { deleted: true as const }
    },
    'runs.sample': async (a) => {
      const outDir = absoluteFolder(a.outDir)
      const run = mustGet(a.runId)
      const classIndex = typeof a.class === 'number' ? a.class : run.classNames.indexOf(a.class)
      if (classIndex < 0 || classIndex >= run.classNames.length) {
        throw new AppError(
          'invalid_argument',
          `No class ${JSON.stringify(a.class)} in run ${a.runId}; its classes are: ${run.classNames.join(', ')}.`,
        )
      }
      if (!isEmptyFolder(outDir))
        throw new AppError(
          'conflict',
          `${outDir} already holds files; Synthfold never overwrites images. Choose a new or empty folder.`,
        )
      const r = await runs.sample({ ...a, classIndex, outDir })
      return { ...r, classIndex }
    },
    'runs.estimate': async ({ datasetId }) => {
      const ds = datasets.get(datasetId)
      if (!ds) throw new AppError('not_found', `No dataset with id ${datasetId}.`)
      const channels = channelCount(ds.channels)
      const classes = Math.max(1, ds.classes.filter((c) => c.count > 0).length)
      // what a run trains on: the evaluation split stays out
      const imageCount = trainingImages(ds.classes)
      const speeds = await runs.presetSpeeds({ size: ds.size, channels, classes, imageCount })
      // as the plan counts it: the preset's steps an epoch, and the work after each epoch
      const perEpoch = (preset: 'fast' | 'balanced' | 'quality'): number => {
        const data = { size: ds.size, channels, imageCount }
        const plan = planTraining({ preset }, { ...data, imagesPerSecond: speeds[preset] })
        return secondsPerEpoch(
          imageCount,
          plan.stepsPerEpoch,
          plan.settings.batchSize,
          speeds[preset],
        )
      }
      return {
        secondsPerEpoch: {
          fast: perEpoch('fast'),
          balanced: perEpoch('balanced'),
          quality: perEpoch('quality'),
        },
        imagesPerSecond: { ...speeds },
      }
    },
    'system.doctor': async ({ backend }) => {
      const info = await runs.doctor(backend ?? 'auto')
      return {
        backend: info.backend,
        device: info.device,
        threads: info.threads || cpus().length,
        simd: info.simd,
        notes: info.notes,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      }
    },
  }
}
