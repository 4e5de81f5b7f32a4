import { ref, type Ref } from 'vue'
import type { SampleItem } from '../../../shared/generation'

/** What the selection needs of a paged list: its length, the items loaded, and every id in order. */
export interface SelectableList {
  total: Ref<number>
  itemAt: (i: number) => SampleItem | undefined
  allIds: () => Promise<number[]>
}

/**
 * Selection over a paged grid, as a file manager does it: a click picks one, Ctrl/Cmd+click
 * toggles, Shift+click or Shift+arrow extends from the anchor. `focus` is the cell the keyboard
 * is on; it may hold no item yet when its page is still loading.
 */
export function useSelection(list: SelectableList) {
  const selected = ref(new Set<number>())
  const focus = ref(-1)
  const anchor = ref(-1)

  /** Ids of the cells from a to b as shown (loaded pages first: they may hold decided samples the filter no longer matches). */
  async function rangeIds(a: number, b: number): Promise<number[]> {
    const lo = Math.min(a, b)
    const hi = Math.max(a, b)
    const shown: number[] = []
    for (let i = lo; i <= hi; i++) {
      const item = list.itemAt(i)
      if (!item) return (await list.allIds()).slice(lo, hi + 1)
      shown.push(item.id)
    }
    return shown
  }

  /** Selects just the cell at `index` and makes it the anchor. */
  function only(index: number): void {
    anchor.value = index
    const item = list.itemAt(index)
    selected.value = item ? new Set([item.id]) : new Set()
  }

  async function pick(
    index: number,
    e: Pick<MouseEvent, 'shiftKey' | 'ctrlKey' | 'metaKey'>,
  ): Promise<void> {
    const item = list.itemAt(index)
    if (!item) return
    if (e.shiftKey && anchor.value >= 0) {
      selected.value = new Set(await rangeIds(anchor.value, index))
    } else if (e.ctrlKey || e.metaKey) {
      const next = new Set(selected.value)
      if (next.has(item.id)) next.delete(item.id)
      else next.add(item.id)
      selected.value = next
      anchor.value = index
    } else {
      selected.value = new Set([item.id])
      anchor.value = index
    }
    focus.value = index
  }

  /** Moves the focus by `delta` cells (the first key press lands on the first cell). */
  async function move(delta: number, extend: boolean): Promise<void> {
    const n = list.total.value
    if (!n) return
    const next = Math.max(
      0,
      Math.min(n - 1, (focus.value < 0 ? 0 : focus.value) + (focus.value < 0 ? 0 : delta)),
    )
    focus.value = next
    if (extend && anchor.value >= 0) selected.value = new Set(await rangeIds(anchor.value, next))
    else only(next)
  }

  /** After deciding one sample, go on to the next: the fast way through a grid. */
  function advance(): void {
    if (selected.value.size <= 1 && focus.value < list.total.value - 1) {
      focus.value++
      only(focus.value)
    }
  }

  async function selectAll(): Promise<void> {
    selected.value = new Set(await list.allIds())
  }

  function clear(): void {
    selected.value = new Set()
  }

  /** Forgets selection, focus and anchor (the list was filtered or sorted anew). */
  function reset(): void {
    clear()
    focus.value = -1
    anchor.value = -1
  }

  /** The ids an action applies to: the selection, or else the focused sample. */
  function targets(): number[] {
    if (selected.value.size) return [...selected.value]
    const focused = list.itemAt(focus.value)
    return focused ? [focused.id] : []
  }

  return { selected, focus, anchor, pick, move, advance, selectAll, clear, reset, targets }
}

export type Selection = ReturnType<typeof useSelection>
