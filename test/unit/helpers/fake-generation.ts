import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Core } from '../../../src/core/core'
import { planGeneration } from '../../../src/shared/plan'
import { DEFAULT_FILTERS, type FilterReason } from '../../../src/shared/generation'

export interface FakeSample {
  className: string
  status: 'accepted' | 'rejected'
  /** Why the filters rejected it (rejected samples only; duplicate when not given). */
  reason?: FilterReason
  confidence: number
  novelty?: number
}

/**
 * A finished generation on an imported dataset without training anything: a run row, a
 * generation row with the real planner's plan (not-majority, `maxRatio`), and one gray PNG at
 * `size` px per sample in the generation's folder. Returns the generation's id.
 */
export async function fakeGeneration(
  core: Core,
  datasetId: number,
  samples: FakeSample[],
  opts: { maxRatio?: number | null; size?: number } = {},
): Promise<number> {
  const ds = core.repo.get(datasetId)!
  const classNames = ds.classes.map((c) => c.name)
  const now = Date.now()
  const runId = Number(
    core.db
      .prepare(
        `INSERT INTO runs (dataset_id, status, settings, class_names, epochs_done, created_at, updated_at)
         VALUES (?, 'completed', '{}', ?, 1, ?, ?)`,
      )
      .run(datasetId, JSON.stringify(classNames), now, now).lastInsertRowid,
  )
  const plan = planGeneration(
    ds.classes.map((c) => ({ name: c.name, real: c.count })),
    { kind: 'not-majority' },
    opts.maxRatio === undefined ? 3 : opts.maxRatio,
  )
  const id = core.gensRepo.create({
    runId,
    datasetId,
    checkpoint: { kind: 'best', epoch: 1, path: '' },
    temperature: 1,
    filters: DEFAULT_FILTERS,
    plan,
    classNames,
  })
  const dir = join(core.gens.folder(id), 'samples')
  mkdirSync(dir, { recursive: true })
  const size = opts.size ?? ds.size
  const rows = await Promise.all(
    samples.map(async (s, i) => {
      const classIndex = classNames.indexOf(s.className)
      const file = `${classIndex}/${i}.png`
      mkdirSync(join(dir, String(classIndex)), { recursive: true })
      await sharp({
        create: { width: size, height: size, channels: 3, background: { r: i % 256, g: 9, b: 9 } },
      })
        .greyscale()
        .png()
        .toFile(join(dir, file))
      return {
        classIndex,
        seed: i,
        latent: [0, 0],
        file,
        confidence: s.confidence,
        novelty: s.novelty ?? 1,
        nearestDistance: 1,
        nearestImageId: null,
        duplicateOfSeed: null,
        // the filters' verdict: a rejected sample has a reason, an accepted one none
        reason: s.status === 'rejected' ? (s.reason ?? 'duplicate') : null,
      }
    }),
  )
  core.samplesRepo.addSamples(id, rows)
  core.gensRepo.finish(id, 'completed', null, null)
  return id
}
