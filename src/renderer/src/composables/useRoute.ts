import { ref, type Ref } from 'vue'

export type Route = { name: 'library' } | { name: 'dataset'; id: number }

function parse(hash: string): Route {
  const m = /^#\/datasets\/(\d+)/.exec(hash)
  return m ? { name: 'dataset', id: Number(m[1]) } : { name: 'library' }
}

const route = ref<Route>(parse(location.hash))
window.addEventListener('hashchange', () => (route.value = parse(location.hash)))

/** A two-page hash router: the library and a dataset. Reloading keeps the page. */
export function useRoute(): { route: Ref<Route>; go: (r: Route) => void } {
  const go = (r: Route): void => {
    location.hash = r.name === 'dataset' ? `#/datasets/${r.id}` : '#/'
  }
  return { route, go }
}
