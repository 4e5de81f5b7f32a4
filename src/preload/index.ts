/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The renderer's whole view of the app: one function per contract method, plus `on` for events.
 * No ipcRenderer, no generic send, no Node objects cross the bridge.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { eventChannel, eventNames, ipcChannel, methodNames, type EventName } from '../shared/names'

type Listener = (payload: unknown) => void
const dropListeners = new Set<Listener>()

const api: Record<string, unknown> = {}
for (const method of methodNames) {
  api[method] = (args?: unknown) => ipcRenderer.invoke(ipcChannel(method), args ?? {})
}
api.on = (event: EventName, listener: Listener): (() => void) => {
  if (!eventNames.includes(event)) throw new Error(`Unknown event: ${String(event)}`)
  if (event === 'app.drop') {
    dropListeners.add(listener)
    return () => dropListeners.delete(listener)
  }
  const handler = (_e: unknown, payload: unknown): void => listener(payload)
  ipcRenderer.on(eventChannel(event), handler)
  return () => ipcRenderer.removeListener(eventChannel(event), handler)
}
api.shell = 'electron'

// Dropped folders: only the preload can turn a File into its path (webUtils), so it does that here
// and hands the renderer the paths, never the File objects' internals.
window.addEventListener('drop', (e: DragEvent) => {
  const files = [...(e.dataTransfer?.files ?? [])]
  const paths = files.map((f) => webUtils.getPathForFile(f)).filter(Boolean)
  if (paths.length) for (const l of dropListeners) l({ paths })
})

contextBridge.exposeInMainWorld('synthfold', api)
