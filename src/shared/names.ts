/**
 * Method and event names of the contract, with no schema library attached, so the sandboxed
 * preload can build its one-function-per-method bridge without bundling zod.
 */
export const methodNames = [
  'app.info',
  'datasets.list',
  'datasets.get',
  'datasets.images',
  'datasets.skipped',
  'datasets.rename',
  'datasets.delete',
  'datasets.import',
  'datasets.importSample',
  'jobs.list',
  'jobs.cancel',
  'dialog.pickFolder',
  'runs.start',
  'runs.resume',
  'runs.cancel',
  'runs.list',
  'runs.get',
  'runs.delete',
  'runs.sample',
  'runs.estimate',
  'system.doctor',
  'generations.plan',
  'generations.start',
  'generations.list',
  'generations.get',
  'generations.cancel',
  'generations.refill',
  'generations.delete',
  'samples.list',
  'samples.ids',
  'samples.get',
  'samples.decide',
  'exports.preview',
  'exports.start',
  'exports.list',
  'exports.get',
  'exports.cancel',
  'exports.resume',
  'exports.cleanup',
  'runs.exportGenerator',
  'evaluations.start',
  'evaluations.list',
  'evaluations.get',
  'evaluations.cancel',
  'audits.start',
  'audits.latest',
  'audits.get',
  'audits.cancel',
  'audits.images',
  'datasets.relabel',
  'datasets.exclude',
  'datasets.overrides',
] as const

export type MethodName = (typeof methodNames)[number]

export const eventNames = [
  'job',
  'run',
  'generation',
  'export',
  'evaluation',
  'audit',
  'app.drop',
] as const
export type EventName = (typeof eventNames)[number]

export const ipcChannel = (method: MethodName): string => `synthfold:api:${method}`
export const eventChannel = (event: EventName): string => `synthfold:event:${event}`
