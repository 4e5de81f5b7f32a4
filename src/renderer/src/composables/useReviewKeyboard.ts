import type { Ref } from 'vue'
import type { SampleStatus } from '../../../shared/generation'

/**
 * The review grid's keys: arrows move (Shift extends), A accepts, R rejects, Ctrl/Cmd+A selects
 * all, Ctrl/Cmd+Z undoes, Space zooms, Escape closes the zoom or else clears the selection. Returns
 * the keydown handler; keys it does not know go on to the browser.
 */
export function useReviewKeyboard(keys: {
  columns: Ref<number>
  move: (delta: number, extend: boolean) => Promise<void>
  decide: (to: SampleStatus) => Promise<void>
  selectAll: () => Promise<unknown>
  undo: () => Promise<void>
  toggleZoom: () => void
  escape: () => void
}): (e: KeyboardEvent) => void {
  return (e) => {
    const mod = e.ctrlKey || e.metaKey
    const k = e.key
    if (k === 'ArrowRight') void keys.move(1, e.shiftKey)
    else if (k === 'ArrowLeft') void keys.move(-1, e.shiftKey)
    else if (k === 'ArrowDown') void keys.move(keys.columns.value, e.shiftKey)
    else if (k === 'ArrowUp') void keys.move(-keys.columns.value, e.shiftKey)
    else if (mod && (k === 'a' || k === 'A')) void keys.selectAll()
    else if (mod && (k === 'z' || k === 'Z')) void keys.undo()
    else if (!mod && (k === 'a' || k === 'A')) void keys.decide('accepted')
    else if (!mod && (k === 'r' || k === 'R')) void keys.decide('rejected')
    else if (k === ' ') keys.toggleZoom()
    else if (k === 'Escape') keys.escape()
    else return
    e.preventDefault()
  }
}
