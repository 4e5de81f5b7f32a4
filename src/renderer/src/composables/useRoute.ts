import { ref, type Ref } from 'vue'

export type Route =
  { name: 'library' } | { name: 'dataset'; id: number } | { name: 'run'; id: number }

function parse(hash: string): Route {
  const d = /^#\/datasets\/(\d+)/.exec(hash)
  if (d) return { name: 'dataset', id: Number(d[1]) }
  const r = /^#\/runs\/(\d+)/.exec(hash)
  return r ? { name: 'run', id: Number(r[1]) } : { name: 'library' }
}

const route = ref<Route>(parse(location.hash))
window.addEventListener('hashchange', () => (route.value = parse(location.hash)))

/** A small hash router: the library, a dataset, a training run. Reloading keeps the page. */
export function useRoute(): { route: Ref<Route>; go: (r: Route) => void } {
  const go = (r: Route): void => {
    location.hash =
      r.name === 'dataset' ? `#/datasets/${r.id}` : r.name === 'run' ? `#/runs/${r.id}` : '#/'
  }
  return { route, go }
}
