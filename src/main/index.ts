/** Electron shell: lifecycle, window, IPC and the media protocol; all real work is in ./core. */
import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron'
import { join } from 'node:path'
import { Core } from '../core/core'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'
import { isSameDocument, rendererUrl } from './app-protocol'
import { bindIpc, forwardEvents } from './ipc'
import { handleAppProtocol, handleMediaProtocol, PRIVILEGED_SCHEMES } from './protocol'
import { createMainWindow } from './window'
import { utilityWorker } from './utility-process'

protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES)
if (!process.env.SYNTHFOLD_HOME) app.setName('Synthfold')

const appUrl = rendererUrl(app)
const isAppUrl = (url: string): boolean => isSameDocument(url, appUrl)

let core: Core
let quitting = false
/** The person already agreed to stop running training (when closing the window). */
let confirmed = false

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) return app.quit()
  await app.whenReady()
  core = new Core({
    home: process.env.SYNTHFOLD_HOME ?? app.getPath('userData'),
    shell: 'electron',
    spawnWorker: utilityWorker,
    pickFolder: async () => {
      const win = BrowserWindow.getFocusedWindow()
      const opts = {
        title: 'Choose a folder with one subfolder per class',
        properties: ['openDirectory' as const],
      }
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts)
      return r.canceled ? null : (r.filePaths[0] ?? null)
    },
  })
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
      },
    })
  })
  handleAppProtocol(protocol, join(import.meta.dirname, '../renderer'))
  handleMediaProtocol(protocol, core)
  bindIpc(ipcMain, core, isAppUrl)
  openWindow()
  app.on('activate', () => BrowserWindow.getAllWindows().length === 0 && openWindow())
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus())
}

function openWindow(): void {
  const win = createMainWindow({
    BrowserWindow,
    preload: join(import.meta.dirname, '../preload/index.cjs'),
    isAppUrl,
  })
  forwardEvents(core, win.webContents)
  win.on('close', (event) => {
    if (quitting || confirmed || process.platform === 'darwin') return
    if (confirmQuit()) confirmed = true
    else event.preventDefault()
  })
  void win.loadURL(appUrl)
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
/**
 * Quitting while a model trains asks first: stopping saves a checkpoint the run resumes from;
 * the other choice keeps the app (and the run) going.
 */
function confirmQuit(): boolean {
  const live = core?.runs.liveRunIds() ?? []
  if (live.length === 0) return true
  const choice = dialog.showMessageBoxSync({
    type: 'question',
    title: 'Training in progress',
    message:
      live.length === 1
        ? `Run #${live[0]} is still training.`
        : `${live.length} runs are still training.`,
    detail: 'Stop saves a checkpoint, and you can resume the run later from its page.',
    buttons: ['Keep training', 'Stop training and quit'],
    defaultId: 0,
    cancelId: 0,
  })
  return choice === 1
}

app.on('before-quit', (event) => {
  if (quitting || !core) return
  event.preventDefault()
  if (!confirmed && !confirmQuit()) return
  // Let a running import commit its last batch and runs save their checkpoint before the end.
  quitting = true
  void core.close().finally(() => app.quit())
})

void main()
