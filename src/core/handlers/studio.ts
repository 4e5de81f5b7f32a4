import type { MethodName, MethodResults, ParsedArgs } from '../../shared/contract'
import { AppError } from '../../shared/result'
import type { CodeSource } from '../../shared/ml-protocol'
import type { StudioManager } from '../jobs/studio-jobs'
import { absoluteFolder, isEmptyFolder } from '../util/out-folder'

type StudioMethods = Extract<MethodName, `studio.${string}`>
export type StudioHandlers = {
  [M in StudioMethods]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** Contract methods of the latent studio: the map, interpolation, sliders and traversals. */
export function studioHandlers(studio: StudioManager): StudioHandlers {
  const classIndex = (runId: number, c: string | number): number => {
    const e = studio.endpoint(studio.run(runId), { class: c })
    return 'classIndex' in e ? e.classIndex : -1
  }
  const latentDim = (runId: number, zs: number[][], kind: 'best' | 'last') => {
    const d = studio.run(runId).settings.latentDim
    studio.checkpoint(runId, kind, 'sliders')
    for (const z of zs)
      if (z.length !== d)
        throw new AppError(
          'invalid_argument',
          `A latent code of run ${runId} has ${d} numbers, not ${z.length}.`,
        )
  }
  const codeSource = (
    runId: number,
    src: { imageId: number } | { class: string | number; seed: number },
  ): CodeSource =>
    'imageId' in src ? src : { classIndex: classIndex(runId, src.class), seed: src.seed }
  return {
    'studio.map': (a) => studio.map(a),
    'studio.cancel': ({ jobId }) => ({ cancelled: studio.cancel(jobId) }),
    'studio.interpolate': async (a) => {
      // a relative folder is refused before anything else (as runs.sample does)
      const outDir = a.outDir === undefined ? null : absoluteFolder(a.outDir)
      const run = studio.run(a.runId)
      const from = studio.endpoint(run, a.from)
      const to = studio.endpoint(run, a.to)
      if (outDir !== null) {
        if (!isEmptyFolder(outDir))
          throw new AppError(
            'conflict',
            `${outDir} already holds files; Synthfold never overwrites images. Choose a new or empty folder.`,
          )
      }
      return studio.request(a.runId, a.checkpoint, {
        kind: 'interpolate',
        from,
        to,
        steps: a.steps,
        path: a.path,
        outDir,
      })
    },
    'studio.codes': (a) =>
      studio.request(a.runId, a.checkpoint, {
        kind: 'codes',
        source: codeSource(a.runId, a.source),
      }),
    'studio.resample': (a) =>
      studio.request(a.runId, a.checkpoint, {
        kind: 'resample',
        source: codeSource(a.runId, a.source),
        region: a.region,
        temperature: a.temperature,
        seeds: Array.from({ length: a.count }, (_, i) => a.seed + i),
      }),
    'studio.dimensions': async (a) => {
      const c = classIndex(a.runId, a.class)
      const r = await studio.request(a.runId, a.checkpoint, {
        kind: 'dimensions',
        classIndex: c,
        by: a.by,
        count: a.count,
      })
      return { classIndex: c, ...r }
    },
    'studio.decode': (a) => {
      const c = classIndex(a.runId, a.class)
      latentDim(a.runId, a.latents, a.checkpoint)
      return studio.request(a.runId, a.checkpoint, {
        kind: 'decode',
        classIndex: c,
        latents: a.latents,
      })
    },
    'studio.traverse': (a) => {
      const c = classIndex(a.runId, a.class)
      latentDim(a.runId, [a.base], a.checkpoint)
      const d = a.base.length
      for (const dim of a.dims)
        if (dim.index >= d)
          throw new AppError(
            'invalid_argument',
            `No latent dimension ${dim.index} (this run has ${d}).`,
          )
      return studio.request(a.runId, a.checkpoint, {
        kind: 'traverse',
        classIndex: c,
        base: a.base,
        dims: a.dims,
        values: a.values,
      })
    },
  }
}
