import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron'
import { eventChannel, eventNames, ipcChannel, methodNames } from '../shared/names'
import type { Result } from '../shared/result'
import type { Core } from '../core/core'

/**
 * Binds every contract method to its own ipcMain channel. Calls from any frame that is not the
 * app's own top-level renderer are refused before the core sees them.
 */
export function bindIpc(
  ipcMain: IpcMain,
  core: Core,
  isAppUrl: (url: string) => boolean,
): () => void {
  for (const method of methodNames) {
    ipcMain.handle(
      ipcChannel(method),
      async (event: IpcMainInvokeEvent, args: unknown): Promise<Result<unknown>> => {
        const frame = event.senderFrame
        if (!frame || frame.parent !== null || !isAppUrl(frame.url)) {
          return {
            ok: false,
            error: {
              code: 'forbidden',
              message: 'Call refused: it did not come from the Synthfold window.',
            },
          }
        }
        return core.call(method, args)
      },
    )
  }
  return () => methodNames.forEach((m) => ipcMain.removeHandler(ipcChannel(m)))
}

/** Forwards core events (job progress, ...) to a window for as long as it lives. */
export function forwardEvents(core: Core, contents: WebContents): () => void {
  const offs = eventNames
    .filter((e) => e !== 'app.drop')
    .map((event) =>
      core.on(event, (payload) => {
        if (!contents.isDestroyed()) contents.send(eventChannel(event), payload)
      }),
    )
  const off = (): void => offs.forEach((o) => o())
  contents.once('destroyed', off)
  return off
}
