import { describe, expect, it } from 'vitest'
import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron'
import { createMainWindow, secureWebPreferences } from '../../src/main/window'

type Handler = (...args: unknown[]) => unknown

/** Just enough of BrowserWindow to record what the factory sets up. */
function fakeWindowClass() {
  const created: {
    options: BrowserWindowConstructorOptions
    handlers: Record<string, Handler>
    openHandler?: Handler
    permission?: Handler
    check?: Handler
  }[] = []
  class Fake {
    webContents: unknown
    constructor(options: BrowserWindowConstructorOptions) {
      const rec: (typeof created)[number] = { options, handlers: {} }
      created.push(rec)
      this.webContents = {
        on: (name: string, h: Handler) => (rec.handlers[name] = h),
        setWindowOpenHandler: (h: Handler) => (rec.openHandler = h),
        session: {
          setPermissionRequestHandler: (h: Handler) => (rec.permission = h),
          setPermissionCheckHandler: (h: Handler) => (rec.check = h),
        },
      }
    }
    once(): void {}
  }
  return {
    Fake: Fake as unknown as new (o: BrowserWindowConstructorOptions) => BrowserWindow,
    created,
  }
}

describe('the window factory', () => {
  it('uses isolated, sandboxed web preferences without Node', () => {
    const prefs = secureWebPreferences('/app/preload.cjs')
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    })
  })

  it('blocks navigation away from the app, new windows and permission requests', () => {
    const { Fake, created } = fakeWindowClass()
    createMainWindow({
      BrowserWindow: Fake,
      preload: '/p.cjs',
      isAppUrl: (u) => u.startsWith('app://synthfold/'),
    })
    const w = created[0]
    expect(w.options.webPreferences).toEqual(secureWebPreferences('/p.cjs'))
    let prevented = 0
    const event = { preventDefault: () => prevented++ }
    w.handlers['will-navigate'](event, 'https://evil.example/')
    expect(prevented).toBe(1)
    w.handlers['will-navigate'](event, 'app://synthfold/index.html')
    expect(prevented).toBe(1)
    w.handlers['will-redirect'](event, 'http://127.0.0.1:9/')
    expect(prevented).toBe(2)
    expect(w.openHandler?.({ url: 'https://x' })).toEqual({ action: 'deny' })
    let granted: boolean | undefined
    w.permission?.({}, 'media', (g: boolean) => (granted = g))
    expect(granted).toBe(false)
    expect(w.check?.()).toBe(false)
    w.handlers['will-attach-webview'](event)
    expect(prevented).toBe(3)
  })
})
