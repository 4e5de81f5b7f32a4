import { computed, onMounted, onUnmounted, ref, type Ref } from 'vue'
import { gridWindow } from './virtualGrid'

/**
 * The scrolling state of a virtualised grid of fixed-size cells: the element's size (watched with
 * a ResizeObserver), its scroll position (read once per frame) and the window of rows to render.
 */
export function useGridScroll(total: () => number, cell: number) {
  const scroller: Ref<HTMLElement | null> = ref(null)
  const scrollTop = ref(0)
  const width = ref(800)
  const viewport = ref(480)
  const win = computed(() =>
    gridWindow({
      total: total(),
      width: width.value,
      cell,
      scrollTop: scrollTop.value,
      viewport: viewport.value,
    }),
  )
  let raf = 0
  function onScroll(): void {
    cancelAnimationFrame(raf)
    raf = requestAnimationFrame(() => (scrollTop.value = scroller.value?.scrollTop ?? 0))
  }
  function toTop(): void {
    if (scroller.value) scroller.value.scrollTop = 0
    scrollTop.value = 0
  }
  let observer: ResizeObserver | null = null
  onMounted(() => {
    observer = new ResizeObserver(() => {
      width.value = scroller.value?.clientWidth ?? width.value
      viewport.value = scroller.value?.clientHeight ?? viewport.value
    })
    if (scroller.value) observer.observe(scroller.value)
  })
  onUnmounted(() => {
    observer?.disconnect()
    cancelAnimationFrame(raf)
  })
  return { scroller, width, win, onScroll, toTop }
}
