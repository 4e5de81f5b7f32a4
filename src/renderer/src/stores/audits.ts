import { defineStore } from 'pinia'
import { ref } from 'vue'
import { call, on } from '../api'
import type { AuditImage, AuditProgress, AuditSummary, OverrideItem } from '../../../shared/audit'
import { useDatasetsStore } from './datasets'

export type AuditList = 'labels' | 'outliers'

/** One change the person made from the audit lists, with what to put back on undo. */
interface Change {
  datasetId: number
  imageId: number
  path: string
  what: string
  previous: OverrideItem | null
}

/**
 * Audits of runs (outliers, likely label errors) and the person's relabels and exclusions made
 * from their lists, with an undo of each change in turn. A change updates the dataset's class
 * counts in the library store from the reply.
 */
export const useAuditsStore = defineStore('audits', () => {
  /** Run id -> its newest audit and its newest completed one. */
  const byRun = ref<
    Record<number, { latest: AuditSummary | null; completed: AuditSummary | null }>
  >({})
  const progress = ref<Record<number, AuditProgress>>({})
  const undoStack = ref<Change[]>([])
  /** Bumped after every change, so lists read again. */
  const revision = ref(0)
  const datasets = useDatasetsStore()
  let started = false

  function put(a: AuditSummary): void {
    const cur = byRun.value[a.runId] ?? { latest: null, completed: null }
    if (cur.latest && cur.latest.id > a.id) return
    if (cur.latest?.id === a.id && cur.latest.status !== 'running' && a.status === 'running') return
    byRun.value = {
      ...byRun.value,
      [a.runId]: { latest: a, completed: a.status === 'completed' ? a : cur.completed },
    }
    if (a.status !== 'running') {
      const { [a.id]: _gone, ...rest } = progress.value
      void _gone
      progress.value = rest
    }
  }

  function start(): void {
    if (started) return
    started = true
    on('audit', (e) => {
      if (e.type === 'status') put(e.audit)
      else if (byRun.value[e.progress.runId]?.latest?.status !== 'completed')
        progress.value = { ...progress.value, [e.progress.auditId]: e.progress }
    })
  }

  async function load(runId: number): Promise<void> {
    const r = await call('audits.latest', { runId })
    byRun.value = { ...byRun.value, [runId]: r }
  }

  async function audit(runId: number): Promise<void> {
    put(await call('audits.start', { runId }))
  }

  async function cancel(auditId: number): Promise<void> {
    await call('audits.cancel', { auditId })
  }

  async function list(
    auditId: number,
    kind: AuditList,
    order: 'desc' | 'asc',
    offset: number,
    limit: number,
  ): Promise<{ total: number; items: AuditImage[] }> {
    return call('audits.images', {
      auditId,
      sort: kind === 'labels' ? 'label-error' : 'anomaly',
      suspectsOnly: kind === 'labels',
      order,
      offset,
      limit,
    })
  }

  async function change(
    datasetId: number,
    im: AuditImage,
    what: string,
    act: () => ReturnType<typeof call<'datasets.relabel'>>,
  ): Promise<void> {
    const before = (await call('datasets.overrides', { datasetId })).find(
      (o) => o.imageId === im.imageId,
    )
    const r = await act()
    datasets.replace(r.dataset)
    undoStack.value = [
      ...undoStack.value,
      { datasetId, imageId: im.imageId, path: im.path, what, previous: before ?? null },
    ]
    revision.value++
  }

  const relabel = (datasetId: number, im: AuditImage, className: string) =>
    change(datasetId, im, `${im.path} relabelled ${className}`, () =>
      call('datasets.relabel', { datasetId, imageId: im.imageId, className }),
    )

  const exclude = (datasetId: number, im: AuditImage) =>
    change(datasetId, im, `${im.path} excluded`, () =>
      call('datasets.exclude', { datasetId, imageId: im.imageId }),
    )

  /** Puts the image of the latest change back as it was before it. */
  async function undo(): Promise<void> {
    const c = undoStack.value.at(-1)
    if (!c) return
    const p = c.previous
    const ref = { datasetId: c.datasetId, imageId: c.imageId }
    await call('datasets.exclude', { ...ref, undo: !p?.excluded })
    const r =
      p && p.class !== p.originalClass
        ? await call('datasets.relabel', { ...ref, className: p.class })
        : await call('datasets.relabel', { ...ref, undo: true })
    datasets.replace(r.dataset)
    undoStack.value = undoStack.value.slice(0, -1)
    revision.value++
  }

  return {
    byRun,
    progress,
    undoStack,
    revision,
    start,
    load,
    audit,
    cancel,
    list,
    relabel,
    exclude,
    undo,
  }
})
