import { ref, type Ref } from 'vue'

export type Route =
  | { name: 'library' }
  | { name: 'dataset'; id: number }
  | { name: 'run'; id: number }
  | { name: 'studio'; id: number }
  | { name: 'compare'; a: number; b: number }
  | { name: 'generation'; id: number }
  | { name: 'export'; id: number }

function parse(hash: string): Route {
  const d = /^#\/datasets\/(\d+)/.exec(hash)
  if (d) return { name: 'dataset', id: Number(d[1]) }
  const c = /^#\/compare\/(\d+)\/(\d+)/.exec(hash)
  if (c) return { name: 'compare', a: Number(c[1]), b: Number(c[2]) }
  const x = /^#\/exports\/(\d+)/.exec(hash)
  if (x) return { name: 'export', id: Number(x[1]) }
  const g = /^#\/generations\/(\d+)/.exec(hash)
  if (g) return { name: 'generation', id: Number(g[1]) }
  const st = /^#\/runs\/(\d+)\/studio/.exec(hash)
  if (st) return { name: 'studio', id: Number(st[1]) }
  const r = /^#\/runs\/(\d+)/.exec(hash)
  return r ? { name: 'run', id: Number(r[1]) } : { name: 'library' }
}

const route = ref<Route>(parse(location.hash))
window.addEventListener('hashchange', () => (route.value = parse(location.hash)))

/** A small hash router: library, dataset, run, run comparison. Reloading keeps the page. */
export function useRoute(): { route: Ref<Route>; go: (r: Route) => void } {
  const go = (r: Route): void => {
    const paths: { [K in Route['name']]: (x: Extract<Route, { name: K }>) => string } = {
      library: () => '#/',
      dataset: (x) => `#/datasets/${x.id}`,
      run: (x) => `#/runs/${x.id}`,
      studio: (x) => `#/runs/${x.id}/studio`,
      compare: (x) => `#/compare/${x.a}/${x.b}`,
      generation: (x) => `#/generations/${x.id}`,
      export: (x) => `#/exports/${x.id}`,
    }
    location.hash = (paths[r.name] as (x: Route) => string)(r)
  }
  return { route, go }
}
