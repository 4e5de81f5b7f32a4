/**
 * The one API contract. Every caller (Electron IPC, the web host, the CLI) goes through
 * `methods`: main validates the arguments with the method's schema before any work.
 */
import { z } from 'zod'
import { SETTING_LABELS, trainSettings } from './train-settings'
import { plainErrors } from './issues'
import type { DoctorReport, EpochMetrics, RunEvent, RunSummary } from './runs'
import { DEFAULT_TEMPERATURE } from './generation'
import type {
  ClassBalance,
  GenerationEvent,
  GenerationSummary,
  Plan,
  SampleDetail,
  SampleItem,
} from './generation'
import type { ExportEvent, ExportPreview, ExportSummary } from './export'
import type { EvaluationEvent, EvaluationSummary } from './evaluation'
import type {
  InterpolationResult,
  LatentDimension,
  StudioEvent,
  StudioImage,
  StudioMap,
  CodeGridResult,
  ResampleResult,
} from './studio'
import type { AuditEvent, AuditImage, AuditSummary, OverrideItem } from './audit'
import type { MethodName } from './names'
import type {
  AppInfo,
  DatasetSummary,
  ImageItem,
  JobEvent,
  JobProgress,
  SkippedFile,
} from './types'

export { eventNames, methodNames, type EventName, type MethodName } from './names'

const id = z.number().int().positive()
const page = {
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(2000).default(200),
}

const backendName = z.enum(['auto', 'tensorflow', 'wasm', 'cpu'])
/** A run's backend: webgpu and webgl are the desktop app's GPU window (refused elsewhere). */
const trainBackend = z.enum(['auto', 'tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'])

export const MIN_SIZE = 28
export const MAX_SIZE = 128

export const importArgs = z.strictObject({
  path: z.string().trim().min(1, 'a folder path is required').max(4096),
  name: z.string().trim().min(1, 'the name cannot be empty').max(200).optional(),
  size: z
    .number()
    .int('the size must be a whole number of pixels')
    .min(MIN_SIZE, `the size must be at least ${MIN_SIZE} px`)
    .max(MAX_SIZE, `the size must be at most ${MAX_SIZE} px`)
    .optional(),
  channels: z.enum(['gray', 'rgb', 'rgba']).optional(),
  fit: z.enum(['cover', 'contain', 'fill']).optional(),
})

export const strategySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('not-majority') }),
  z.strictObject({ kind: z.literal('not-minority') }),
  z.strictObject({ kind: z.literal('minority') }),
  z.strictObject({ kind: z.literal('all') }),
  z.strictObject({
    kind: z.literal('targets'),
    // A "__proto__" key (JSON can carry one) would be dropped by the record, and the plan would
    // silently skip it: refuse it by name.
    targets: z
      .unknown()
      .refine(
        (v) => !(typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')),
        '"__proto__" cannot be used as a class name',
      )
      .pipe(
        z.record(
          z.string().min(1),
          z.number().int('a target must be a whole number').min(0).max(1_000_000),
        ),
      ),
  }),
])

const maxRatio = z
  .number()
  .gt(0, 'the ratio cap must be above 0 (use null for no cap)')
  .max(1000)
  .nullable()
  .default(3)

const sampleFilter = {
  generationId: id,
  classIndex: z.number().int().min(0).optional(),
  status: z
    .enum(['all', 'accepted', 'rejected', 'filtered', 'unreviewed', 'reviewed'])
    .default('all'),
  sort: z.enum(['id', 'confidence', 'novelty']).default('id'),
  order: z.enum(['asc', 'desc']).default('asc'),
}

const include = z.enum(['accepted', 'real', 'synthetic']).default('accepted')
const upscale = z.strictObject({
  size: z.number().int().min(8).max(2048),
  method: z.enum(['nearest', 'lanczos3']).default('lanczos3'),
})
const realImages = z.enum(['match', 'as-is']).default('match')
const generationIds = z.array(id).min(1).max(1000).nullable().default(null)
const outPath = z.string().trim().min(1, 'choose a destination folder').max(4096)

const checkpointKind = z.enum(['best', 'last']).default('best')
const classRef = z.union([z.string().min(1), z.number().int().min(0)])
/** An end of an interpolation: an image (by id, or by its path under the dataset's folder) or a class. */
const endpoint = z.union([
  z.strictObject({ imageId: id }),
  z.strictObject({ path: z.string().trim().min(1).max(4096) }),
  z.strictObject({ class: classRef }),
])
/** A region resampling's start: a real image, or the prior's sample of a class for a seed. */
const codeSource = z.union([
  z.strictObject({ imageId: id }),
  z.strictObject({ class: classRef, seed: z.number().int().min(0).max(2 ** 31 - 1) }),
])
const latentCode = z.array(z.number().finite()).min(1).max(1024)

const splitFractions = z
  .tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)])
  .refine((f) => Math.abs(f[0] + f[1] + f[2] - 1) < 1e-6, 'the splits must add up to 1')
  .refine((f) => f[0] > 0, 'the train split cannot be empty')

const schemas = {
  'app.info': z.strictObject({}),
  'datasets.list': z.strictObject({}),
  'datasets.get': z.strictObject({ id }),
  'datasets.images': z.strictObject({ datasetId: id, classId: id.optional(), ...page }),
  'datasets.skipped': z.strictObject({ datasetId: id, ...page }),
  'datasets.rename': z.strictObject({ id, name: z.string().trim().min(1).max(200) }),
  'datasets.delete': z.strictObject({ id }),
  'datasets.import': importArgs,
  'datasets.importSample': z.strictObject({}),
  'jobs.list': z.strictObject({}),
  'jobs.cancel': z.strictObject({ jobId: z.string().min(1).max(64) }),
  'dialog.pickFolder': z.strictObject({}),
  'runs.start': z.strictObject({
    datasetId: id,
    settings: trainSettings.partial().default({}),
    backend: trainBackend.optional(),
  }),
  'runs.resume': z.strictObject({ runId: id, backend: trainBackend.optional() }),
  'runs.cancel': z.strictObject({ runId: id }),
  'runs.list': z.strictObject({ datasetId: id.optional() }),
  'runs.get': z.strictObject({ runId: id }),
  'runs.delete': z.strictObject({ runId: id }),
  'runs.sample': z.strictObject({
    runId: id,
    class: z.union([z.string().min(1), z.number().int().min(0)]),
    n: z.number().int().min(1).max(10_000),
    temperature: z.number().gt(0).max(5).default(1),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    outDir: z.string().trim().min(1).max(4096),
    checkpoint: z.enum(['best', 'last']).default('best'),
  }),
  'runs.estimate': z.strictObject({ datasetId: id }),
  'system.doctor': z.strictObject({ backend: backendName.optional() }),
  'generations.plan': z.strictObject({
    runId: id,
    strategy: strategySchema.default({ kind: 'not-majority' }),
    maxRatio,
  }),
  'generations.start': z.strictObject({
    runId: id,
    strategy: strategySchema.default({ kind: 'not-majority' }),
    maxRatio,
    temperature: z
      .number()
      .gt(0, 'the temperature must be above 0')
      .max(3)
      .default(DEFAULT_TEMPERATURE),
    checkpoint: z.enum(['best', 'last']).default('best'),
    filters: z
      .strictObject({
        minConfidence: z.union([z.number().min(0).max(1), z.literal('auto')]),
        nearCopy: z.number().min(0).max(10),
        duplicate: z.number().min(0).max(10),
      })
      .partial()
      .default({}),
    /**
     * Classes made by classic augmentation of their real images instead of the generator; `flip`
     * lists those that may be mirrored (default: flipByDefault of each class name).
     */
    augment: z
      .strictObject({
        classes: z.array(z.string().min(1)).max(10_000).default([]),
        flip: z.array(z.string().min(1)).max(10_000).optional(),
      })
      .default({ classes: [] }),
    /** The generation this one is a remedy for (same run): see remedies.ts. */
    parentId: id.optional(),
  }),
  'generations.list': z.strictObject({ runId: id.optional(), datasetId: id.optional() }),
  'generations.get': z.strictObject({ generationId: id }),
  'generations.cancel': z.strictObject({ generationId: id }),
  'generations.refill': z.strictObject({
    generationId: id,
    className: z.string().min(1).optional(),
  }),
  'generations.delete': z.strictObject({ generationId: id }),
  'samples.list': z.strictObject({ ...sampleFilter, ...page }),
  'samples.ids': z.strictObject(sampleFilter),
  'samples.get': z.strictObject({ sampleId: id }),
  'samples.decide': z.strictObject({
    decisions: z
      .array(
        z.strictObject({
          id,
          status: z.enum(['accepted', 'rejected']),
          /** false only when undoing a decision on a sample nobody had reviewed */
          reviewed: z.boolean().default(true),
        }),
      )
      .min(1)
      .max(50_000),
    /** Only report what the decisions would do to each class (`classes`); write nothing. */
    dryRun: z.boolean().default(false),
    /**
     * `plan`: accept per class only as many as fit under its plan, the highest class confidence
     * first (then novelty); the other accept decisions are not made. Rejections always apply.
     */
    limit: z.enum(['none', 'plan']).default('none'),
  }),
  'exports.preview': z.strictObject({
    datasetId: id,
    include,
    generationIds,
    upscale: upscale.nullable().default(null),
    realImages,
  }),
  'exports.start': z.strictObject({
    datasetId: id,
    out: outPath,
    include,
    splits: splitFractions.nullable().default(null),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
    zip: z.boolean().default(false),
    merge: z.boolean().default(false),
    generationIds,
    upscale: upscale.nullable().default(null),
    realImages,
    metadata: z.enum(['csv', 'jsonl']).default('csv'),
    /** Also write class_weights.json: inverse-frequency weights of the exported training images. */
    classWeights: z.boolean().default(false),
  }),
  'exports.list': z.strictObject({ datasetId: id.optional() }),
  'exports.get': z.strictObject({ exportId: id }),
  'exports.cancel': z.strictObject({ exportId: id }),
  'exports.resume': z.strictObject({ exportId: id }),
  'exports.cleanup': z.strictObject({ exportId: id }),
  'runs.exportGenerator': z.strictObject({
    runId: id,
    out: outPath,
    checkpoint: z.enum(['best', 'last']).default('best'),
  }),
  'evaluations.start': z.strictObject({
    generationId: id,
    seeds: z.number().int().min(1, 'at least 1 seed').max(10, 'at most 10 seeds').optional(),
    epochs: z.number().int().min(1).max(1000).optional(),
  }),
  'evaluations.list': z.strictObject({ generationId: id }),
  'evaluations.get': z.strictObject({ evaluationId: id }),
  'evaluations.cancel': z.strictObject({ evaluationId: id }),
  'studio.map': z.strictObject({
    runId: id,
    method: z.enum(['pca', 'umap']).default('pca'),
    features: z.enum(['latent', 'classifier']).default('latent'),
    checkpoint: checkpointKind,
    /** A generation whose accepted samples are placed on the map too. */
    generationId: id.nullable().default(null),
    /** Wait for the map (the CLI); otherwise a map not yet cached answers with its job id. */
    wait: z.boolean().default(false),
  }),
  'studio.cancel': z.strictObject({ jobId: z.string().min(1).max(64) }),
  'studio.interpolate': z.strictObject({
    runId: id,
    from: endpoint,
    to: endpoint,
    steps: z.number().int().min(2, 'at least 2 steps').max(64, 'at most 64 steps').default(8),
    path: z.enum(['linear', 'spherical']).default('linear'),
    checkpoint: checkpointKind,
    /** Also write the strip as PNGs into this (new or empty) folder. */
    outDir: z.string().trim().min(1).max(4096).optional(),
  }),
  'studio.dimensions': z.strictObject({
    runId: id,
    class: classRef,
    by: z.enum(['kl', 'variance']).default('kl'),
    count: z.number().int().min(1).max(64).default(8),
    checkpoint: checkpointKind,
  }),
  'studio.decode': z.strictObject({
    runId: id,
    class: classRef,
    latents: z.array(latentCode).min(1).max(64),
    checkpoint: checkpointKind,
  }),
  'studio.traverse': z.strictObject({
    runId: id,
    class: classRef,
    base: latentCode,
    dims: z
      .array(
        // a dimension as studio.dimensions gives it (its kl and variance are ignored)
        z.object({
          index: z.number().int().min(0),
          mean: z.number().finite(),
          sd: z.number().finite().min(0),
        }),
      )
      .min(1)
      .max(16),
    values: z.array(z.number().finite().min(-10).max(10)).min(1).max(15),
    checkpoint: checkpointKind,
  }),
  'studio.codes': z.strictObject({
    runId: id,
    source: codeSource,
    checkpoint: checkpointKind,
  }),
  'studio.resample': z.strictObject({
    runId: id,
    source: codeSource,
    /** The rectangle of the code grid to resample, in cells. */
    region: z.strictObject({
      row: z.number().int().min(0),
      col: z.number().int().min(0),
      rows: z.number().int().min(1),
      cols: z.number().int().min(1),
    }),
    temperature: z.number().finite().min(0).max(3).default(1),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** Variants, seeds seed, seed + 1, ... */
    count: z.number().int().min(1).max(16).default(6),
    checkpoint: checkpointKind,
  }),
  'audits.start': z.strictObject({ runId: id }),
  'audits.latest': z.strictObject({ runId: id }),
  'audits.get': z.strictObject({ auditId: id }),
  'audits.cancel': z.strictObject({ auditId: id }),
  'audits.images': z.strictObject({
    auditId: id,
    sort: z.enum(['label-error', 'anomaly']).default('label-error'),
    /** desc: most suspicious first. */
    order: z.enum(['desc', 'asc']).default('desc'),
    /** Only images whose suggested class is not their own (the "likely label errors" list). */
    suspectsOnly: z.boolean().default(false),
    includeExcluded: z.boolean().default(false),
    ...page,
  }),
  'datasets.relabel': z
    .strictObject({
      datasetId: id,
      /** Relative to the dataset's root folder as imported (or imageId). */
      path: z.string().min(1).max(4096).optional(),
      imageId: id.optional(),
      className: z.string().min(1).max(500).optional(),
      /** Back to the class of the image's folder. */
      undo: z.boolean().default(false),
    })
    .refine(
      (a) => (a.path === undefined) !== (a.imageId === undefined),
      'give a path or an imageId',
    )
    .refine((a) => a.undo || a.className !== undefined, 'a class is required (or undo)'),
  'datasets.exclude': z
    .strictObject({
      datasetId: id,
      path: z.string().min(1).max(4096).optional(),
      imageId: id.optional(),
      undo: z.boolean().default(false),
    })
    .refine(
      (a) => (a.path === undefined) !== (a.imageId === undefined),
      'give a path or an imageId',
    ),
  'datasets.overrides': z.strictObject({ datasetId: id }),
} satisfies { [M in MethodName]: z.ZodType }

type Schemas = typeof schemas
export type MethodArgs<M extends MethodName> = z.input<Schemas[M]>
export type ParsedArgs<M extends MethodName> = z.output<Schemas[M]>

export interface MethodResults {
  'app.info': AppInfo
  'datasets.list': DatasetSummary[]
  'datasets.get': DatasetSummary
  'datasets.images': { total: number; items: ImageItem[] }
  'datasets.skipped': { total: number; items: SkippedFile[] }
  'datasets.rename': DatasetSummary
  'datasets.delete': { deleted: true }
  'datasets.import': { jobId: string }
  'datasets.importSample': { jobId: string }
  'jobs.list': JobProgress[]
  'jobs.cancel': { cancelled: boolean }
  'dialog.pickFolder': { path: string | null }
  'runs.start': RunSummary
  'runs.resume': RunSummary
  'runs.cancel': { cancelled: boolean }
  'runs.list': RunSummary[]
  'runs.get': { run: RunSummary; epochs: EpochMetrics[] }
  'runs.delete': { deleted: true }
  'runs.sample': {
    files: string[]
    latents: number[][]
    classIndex: number
    checkpoint: { kind: 'best' | 'last'; epoch: number }
  }
  /**
   * Each preset's training speed on this dataset's geometry, on this machine's backend, and the
   * seconds an epoch of it takes; planTraining turns the speed into the run's epochs.
   */
  'runs.estimate': {
    secondsPerEpoch: Record<'fast' | 'balanced' | 'quality', number>
    imagesPerSecond: Record<'fast' | 'balanced' | 'quality', number>
  }
  'system.doctor': DoctorReport
  'generations.plan': Plan
  'generations.start': GenerationSummary
  'generations.list': GenerationSummary[]
  'generations.get': GenerationSummary
  'generations.cancel': { cancelled: boolean }
  'generations.refill': GenerationSummary
  'generations.delete': { deleted: true }
  'samples.list': { total: number; items: SampleItem[] }
  'samples.ids': { ids: number[] }
  'samples.get': SampleDetail
  /** `previous`: each sample's state before, to undo with. */
  'exports.preview': ExportPreview
  'exports.start': ExportSummary
  'exports.list': ExportSummary[]
  'exports.get': ExportSummary
  'exports.cancel': { cancelled: boolean }
  'exports.resume': ExportSummary
  'exports.cleanup': { removedFiles: number }
  'runs.exportGenerator': { files: string[]; checkpoint: { kind: 'best' | 'last'; epoch: number } }
  'evaluations.start': EvaluationSummary
  'evaluations.list': EvaluationSummary[]
  'evaluations.get': EvaluationSummary
  'evaluations.cancel': { cancelled: boolean }
  'studio.map': { status: 'ready'; map: StudioMap } | { status: 'computing'; jobId: string }
  'studio.cancel': { cancelled: boolean }
  'studio.interpolate': InterpolationResult
  'studio.dimensions': {
    classIndex: number
    /** The class's most active dimensions, most active first. */
    dims: LatentDimension[]
    /** The class's centre in latent space (its fitted prior mean): where the sliders start. */
    base: number[]
    /** The class's images the ranking was measured on. */
    images: number
  }
  'studio.decode': { images: StudioImage[] }
  'studio.traverse': { rows: StudioImage[][] }
  'studio.codes': CodeGridResult
  'studio.resample': ResampleResult
  'audits.start': AuditSummary
  /** The run's newest audit, and its newest completed one (the one whose scores are read). */
  'audits.latest': { latest: AuditSummary | null; completed: AuditSummary | null }
  'audits.get': AuditSummary
  'audits.cancel': { cancelled: boolean }
  'audits.images': { total: number; items: AuditImage[] }
  /** The image's override after the change (null: none left), and the dataset's new counts. */
  'datasets.relabel': { override: OverrideItem | null; dataset: DatasetSummary }
  'datasets.exclude': { override: OverrideItem | null; dataset: DatasetSummary }
  'datasets.overrides': OverrideItem[]
  'samples.decide': {
    updated: number
    previous: { id: number; status: 'accepted' | 'rejected'; reviewed: boolean }[]
    /** Each class the decisions touch, after them, against its plan and cap. */
    classes: ClassBalance[]
  }
}

/** Events a caller can subscribe to; each subscription returns an unsubscribe function. */
export interface EventPayloads {
  job: JobEvent
  run: RunEvent
  generation: GenerationEvent
  export: ExportEvent
  evaluation: EvaluationEvent
  studio: StudioEvent
  audit: AuditEvent
  /** Folders dropped on the Electron window (paths resolved by the preload). */
  'app.drop': { paths: string[] }
}

/** The schemas, typed per method. */
export const methods: { [M in MethodName]: Schemas[M] } = schemas

/**
 * The error map arguments are validated with (`safeParse(args, { error: argumentErrors })`):
 * "settings.epochs: Epochs must be at least 1", not zod's "Too small: expected number to be >=1".
 */
export const argumentErrors = plainErrors(SETTING_LABELS)

/** Formats a schema failure as one sentence a person can act on. */
export function describeIssues(method: string, error: z.ZodError): string {
  const parts = error.issues.map((issue) => {
    const where = issue.path.length ? `${issue.path.join('.')}: ` : ''
    return `${where}${issue.message}`
  })
  return `Invalid arguments for ${method}: ${parts.join('; ')}`
}
