import { ref, type Ref } from 'vue'
import { call } from '../api'
import type { Action } from './useAction'
import type { Selection } from './useSelection'
import type {
  ClassBalance,
  SampleDetail,
  SampleItem,
  SampleStatus,
} from '../../../shared/generation'

type Previous = { id: number; status: SampleStatus; reviewed: boolean }

/** An accept that would take a class over its plan or its cap, waiting for the person's choice. */
export interface PendingAccept {
  ids: number[]
  /** The classes it takes over their plan or cap. */
  over: ClassBalance[]
}

/**
 * Accept and reject with undo. Every decision is written to SQLite the moment it is made; the
 * service answers with what each sample was before, which is what undo writes back (so an undone
 * sample is as it was, not "reviewed"). The last 100 decisions can be undone. An accept that
 * would take a class over its plan (or its synthetic-to-real cap) waits in `pending` until the
 * person accepts all, accepts only up to the plan, or cancels.
 */
export function useReviewDecisions(opts: {
  selection: Selection
  /** Applies changed samples to the loaded pages. */
  patch: (changes: Map<number, Partial<SampleItem>>) => void
  /** The sample shown in the details panel, kept in step. */
  detail: Ref<SampleDetail | null>
  action: Action
}) {
  const { selection, patch, detail, action } = opts
  const undoStack = ref<Previous[][]>([])

  function show(changes: Previous[]): void {
    patch(new Map(changes.map((d) => [d.id, { status: d.status, reviewed: d.reviewed }])))
    const d = detail.value && changes.find((x) => x.id === detail.value!.id)
    if (d && detail.value)
      detail.value = { ...detail.value, status: d.status, reviewed: d.reviewed }
  }

  const pending = ref<PendingAccept | null>(null)

  async function write(ids: number[], to: SampleStatus, limit: 'none' | 'plan'): Promise<void> {
    const r = await call('samples.decide', {
      decisions: ids.map((id) => ({ id, status: to })),
      limit,
    })
    undoStack.value = [...undoStack.value.slice(-99), r.previous]
    show(r.previous.map((p) => ({ id: p.id, status: to, reviewed: true })))
    selection.advance()
  }

  async function decide(to: SampleStatus): Promise<void> {
    const ids = selection.targets()
    if (!ids.length) return
    await action.run(async () => {
      if (to === 'accepted') {
        const dry = await call('samples.decide', {
          decisions: ids.map((id) => ({ id, status: to })),
          dryRun: true,
        })
        const over = dry.classes.filter(
          (c) => c.acceptedAfter > c.acceptedBefore && (c.overPlan > 0 || c.overCap),
        )
        if (over.length) {
          pending.value = { ids, over }
          return
        }
      }
      await write(ids, to, 'none')
    })
  }

  /** The person's answer to a pending accept. */
  async function resolve(choice: 'all' | 'plan' | 'cancel'): Promise<void> {
    const p = pending.value
    pending.value = null
    if (!p || choice === 'cancel') return
    await action.run(() => write(p.ids, 'accepted', choice === 'all' ? 'none' : 'plan'))
  }

  async function undo(): Promise<void> {
    const last = undoStack.value.at(-1)
    if (!last) return
    await action.run(async () => {
      await call('samples.decide', { decisions: last })
      undoStack.value = undoStack.value.slice(0, -1)
      show(last)
    })
  }

  return { undoStack, pending, decide, resolve, undo }
}
