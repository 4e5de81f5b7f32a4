import { ref, shallowReactive, type Ref } from 'vue'
import { call } from '../api'
import type { SampleItem } from '../../../shared/generation'

export interface SampleQuery {
  generationId: number
  classIndex?: number
  status: 'all' | 'accepted' | 'rejected' | 'filtered' | 'unreviewed' | 'reviewed'
  sort: 'id' | 'confidence' | 'novelty'
  order: 'asc' | 'desc'
}

const PAGE = 240

/**
 * The samples of one filtered, sorted view, fetched a page at a time as the grid needs them.
 * `reset` starts over (new filter, new samples); `patch` changes loaded items in place, so a
 * decision shows at once and nothing jumps under the person's cursor.
 */
export function useSamplePages(query: Ref<SampleQuery>) {
  const total = ref(0)
  const pages = shallowReactive(new Map<number, SampleItem[]>())
  const loading = new Set<number>()
  let epoch = 0
  let ids: Promise<number[]> | null = null

  async function fetchPage(p: number): Promise<void> {
    if (pages.has(p) || loading.has(p) || p < 0) return
    loading.add(p)
    const mine = epoch
    try {
      const r = await call('samples.list', { ...query.value, offset: p * PAGE, limit: PAGE })
      if (mine !== epoch) return
      total.value = r.total
      pages.set(p, r.items)
    } finally {
      loading.delete(p)
    }
  }

  function ensure(first: number, last: number): void {
    for (let p = Math.floor(first / PAGE); p <= Math.floor(Math.max(first, last) / PAGE); p++)
      void fetchPage(p)
  }

  async function reset(): Promise<void> {
    epoch++
    pages.clear()
    loading.clear()
    ids = null
    await fetchPage(0)
  }

  /** Re-reads the loaded pages (e.g. samples were added), keeping what is on screen stable. */
  async function refresh(): Promise<void> {
    const loaded = [...pages.keys()]
    ids = null
    const mine = epoch
    await Promise.all(
      (loaded.length ? loaded : [0]).map(async (p) => {
        const r = await call('samples.list', { ...query.value, offset: p * PAGE, limit: PAGE })
        if (mine !== epoch) return
        total.value = r.total
        pages.set(p, r.items)
      }),
    )
  }

  const itemAt = (i: number): SampleItem | undefined => pages.get(Math.floor(i / PAGE))?.[i % PAGE]

  /** Every id in the view, in order (for select-all and shift-click ranges). */
  function allIds(): Promise<number[]> {
    ids ??= call('samples.ids', query.value).then((r) => r.ids)
    return ids
  }

  function patch(changes: Map<number, Partial<SampleItem>>): void {
    for (const [p, list] of pages) {
      if (!list.some((s) => changes.has(s.id))) continue
      pages.set(
        p,
        list.map((s) => (changes.has(s.id) ? { ...s, ...changes.get(s.id) } : s)),
      )
    }
  }

  return { total, pages, ensure, reset, refresh, itemAt, allIds, patch }
}
