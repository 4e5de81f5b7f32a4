import { ref, type Ref } from 'vue'
import { call } from '../api'
import type { Action } from './useAction'
import type { Selection } from './useSelection'
import type { SampleDetail, SampleItem, SampleStatus } from '../../../shared/generation'

type Previous = { id: number; status: SampleStatus; reviewed: boolean }

/**
 * Accept and reject with undo. Every decision is written to SQLite the moment it is made; the
 * service answers with what each sample was before, which is what undo writes back (so an undone
 * sample is as it was, not "reviewed"). The last 100 decisions can be undone.
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

  async function decide(to: SampleStatus): Promise<void> {
    const ids = selection.targets()
    if (!ids.length) return
    await action.run(async () => {
      const r = await call('samples.decide', {
        decisions: ids.map((id) => ({ id, status: to })),
      })
      undoStack.value = [...undoStack.value.slice(-99), r.previous]
      show(ids.map((id) => ({ id, status: to, reviewed: true })))
      selection.advance()
    })
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

  return { undoStack, decide, undo }
}
