import type { BrowserWindow, BrowserWindowConstructorOptions, WebPreferences } from 'electron'

/** The only web preferences a Synthfold window gets: isolated, sandboxed, no Node. */
export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  }
}

export interface WindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow
  preload: string
  /** The renderer's own URL; navigation anywhere else is refused. */
  isAppUrl: (url: string) => boolean
}

/**
 * Creates the main window with secure defaults: no navigation away from the app, no new windows,
 * and no permission (camera, notifications, ...) granted to the renderer.
 */
export function createMainWindow(deps: WindowDeps): BrowserWindow {
  const win = new deps.BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 880,
    minHeight: 600,
    show: false,
    title: 'Synthfold',
    backgroundColor: '#0f1115',
    webPreferences: secureWebPreferences(deps.preload),
  })
  const contents = win.webContents
  contents.on('will-navigate', (event, url) => {
    if (!deps.isAppUrl(url)) event.preventDefault()
  })
  contents.on('will-redirect', (event, url) => {
    if (!deps.isAppUrl(url)) event.preventDefault()
  })
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  contents.session.setPermissionCheckHandler(() => false)
  win.once('ready-to-show', () => win.show())
  return win
}
