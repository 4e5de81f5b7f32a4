/**
 * The only module that knows how the renderer reaches the core: the Electron preload bridge when
 * present, else the web host's HTTP API and WebSocket (same contract, same results).
 */
import type {
  EventName,
  EventPayloads,
  MethodArgs,
  MethodName,
  MethodResults,
} from '../../shared/contract'
import type { ApiError, Result } from '../../shared/result'

export type ElectronBridge = {
  [M in MethodName]: (args: MethodArgs<M>) => Promise<Result<MethodResults[M]>>
} & {
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void
  shell: 'electron'
}

export class ApiCallError extends Error {
  readonly code: ApiError['code']
  constructor(error: ApiError) {
    super(error.message)
    this.code = error.code
  }
}

interface Transport {
  invoke(method: MethodName, args: unknown): Promise<Result<unknown>>
  on(event: EventName, listener: (payload: unknown) => void): () => void
  mediaUrl(kind: 'thumb' | 'pixels', id: number): string
  runPreviewUrl(runId: number, kind: 'samples' | 'recon', version: number): string
  sampleUrl(sampleId: number): string
  reportUrl(exportId: number): string
  shell: 'electron' | 'web'
}

function electronTransport(bridge: ElectronBridge): Transport {
  return {
    invoke: (method, args) => (bridge[method] as (a: unknown) => Promise<Result<unknown>>)(args),
    on: (event, listener) => bridge.on(event, listener as never),
    mediaUrl: (kind, id) => `synthfold-media://image/${kind}/${id}`,
    runPreviewUrl: (runId, kind, v) => `synthfold-media://run/${runId}/${kind}?v=${v}`,
    sampleUrl: (id) => `synthfold-media://sample/${id}`,
    reportUrl: (id) => `synthfold-media://export/${id}/report`,
    shell: 'electron',
  }
}

function webTransport(): Transport {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>()
  let socket: WebSocket | null = null
  let retry = 0
  const connect = (): void => {
    const ws = new WebSocket(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/events`,
    )
    socket = ws
    ws.onopen = () => (retry = 0)
    ws.onmessage = (m) => {
      const { event, payload } = JSON.parse(String(m.data)) as {
        event: EventName
        payload: unknown
      }
      listeners.get(event)?.forEach((l) => l(payload))
    }
    ws.onclose = () => {
      socket = null
      setTimeout(connect, Math.min(5000, 250 * 2 ** retry++))
    }
  }
  return {
    async invoke(method, args) {
      let res: Response
      try {
        res = await fetch(`/api/${method}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(args ?? {}),
          credentials: 'same-origin',
        })
      } catch (err) {
        return {
          ok: false,
          error: { code: 'io', message: `Synthfold's web host is not reachable (${String(err)}).` },
        }
      }
      if (res.headers.get('content-type')?.startsWith('application/json'))
        return (await res.json()) as Result<unknown>
      return {
        ok: false,
        error: { code: res.status === 403 ? 'forbidden' : 'internal', message: await res.text() },
      }
    },
    on(event, listener) {
      if (!socket) connect()
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(listener)
      return () => set.delete(listener)
    },
    mediaUrl: (kind, id) => `/media/${kind}/${id}`,
    runPreviewUrl: (runId, kind, v) => `/media/run/${runId}/${kind}?v=${v}`,
    sampleUrl: (id) => `/media/sample/${id}`,
    reportUrl: (id) => `/media/export/${id}/report`,
    shell: 'web',
  }
}

const transport: Transport = window.synthfold ? electronTransport(window.synthfold) : webTransport()

/** Calls a contract method; resolves with its value or throws an ApiCallError with a readable message. */
export async function call<M extends MethodName>(
  method: M,
  args: MethodArgs<M>,
): Promise<MethodResults[M]> {
  const r = (await transport.invoke(method, args)) as Result<MethodResults[M]>
  if (!r.ok) throw new ApiCallError(r.error)
  return r.value
}

export function on<E extends EventName>(
  event: E,
  listener: (payload: EventPayloads[E]) => void,
): () => void {
  return transport.on(event, listener as (p: unknown) => void)
}

export const mediaUrl = transport.mediaUrl
export const runPreviewUrl = transport.runPreviewUrl
export const sampleUrl = transport.sampleUrl
export const reportUrl = transport.reportUrl
export const shell = transport.shell
