/**
 * The one API contract. Every caller (Electron IPC, the web host, the CLI) goes through
 * `methods`: main validates the arguments with the method's schema before any work.
 */
import { z } from 'zod'
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
}

/** Events a caller can subscribe to; each subscription returns an unsubscribe function. */
export interface EventPayloads {
  job: JobEvent
  /** Folders dropped on the Electron window (paths resolved by the preload). */
  'app.drop': { paths: string[] }
}

/** The schemas, typed per method. */
export const methods: { [M in MethodName]: Schemas[M] } = schemas

/** Formats a schema failure as one sentence a person can act on. */
export function describeIssues(method: string, error: z.ZodError): string {
  const parts = error.issues.map((issue) => {
    const where = issue.path.length ? `${issue.path.join('.')}: ` : ''
    return `${where}${issue.message}`
  })
  return `Invalid arguments for ${method}: ${parts.join('; ')}`
}
