import { afterEach, describe, expect, it, vi } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

type Handler = (...args: unknown[]) => unknown

/** Just enough of Electron's main-process API for src/main/index.ts, recording what it does. */
const fake = vi.hoisted(() => {
  const state = {
    isPackaged: false,
    log: [] as string[],
    schemes: [] as unknown[],
    handled: [] as string[],
    loaded: [] as string[],
    appEvents: {} as Record<string, Handler>,
    ready: () => {},
    quit: () => {},
  }
  const on = (name: string, h: Handler) => (state.appEvents[name] = h)
  class BrowserWindow {
    static getAllWindows = () => []
    static getFocusedWindow = () => null
    webContents = {
      on: () => {},
      once: () => {},
      send: () => {},
      isDestroyed: () => false,
      setWindowOpenHandler: () => {},
      session: { setPermissionRequestHandler: () => {}, setPermissionCheckHandler: () => {} },
    }
    on(): void {}
    once(): void {}
    loadURL(url: string): Promise<void> {
      state.loaded.push(url)
      return Promise.resolve()
    }
    loadFile(file: string): Promise<void> {
      state.loaded.push(`loadFile:${file}`)
      return Promise.resolve()
    }
  }
  const electron = {
    app: {
      get isPackaged() {
        return state.isPackaged
      },
      setName: () => {},
      requestSingleInstanceLock: () => true,
      whenReady: () => {
        state.log.push('whenReady')
        return new Promise<void>((resolve) => (state.ready = resolve))
      },
      getPath: () => tmpdir(),
      on,
      quit: () => state.quit(),
    },
    BrowserWindow,
    dialog: {},
    ipcMain: { handle: () => {}, removeHandler: () => {} },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => {
        state.log.push('registerSchemesAsPrivileged')
        state.schemes.push(...s)
      },
      handle: (scheme: string) => state.handled.push(scheme),
    },
    session: { defaultSession: { webRequest: { onHeadersReceived: () => {} } } },
    utilityProcess: {},
  }
  return { state, electron }
})
vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }))

const homes: string[] = []
const savedHome = process.env.SYNTHFOLD_HOME
afterEach(() => {
  delete process.env.ELECTRON_RENDERER_URL
  if (savedHome === undefined) delete process.env.SYNTHFOLD_HOME
  else process.env.SYNTHFOLD_HOME = savedHome
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true })
})

/** Starts src/main/index.ts afresh, lets it get ready, returns the URL its window loaded. */
async function start(isPackaged: boolean, devUrl?: string): Promise<string> {
  vi.resetModules()
  Object.assign(fake.state, { isPackaged, log: [], schemes: [], handled: [], loaded: [] })
  if (devUrl) process.env.ELECTRON_RENDERER_URL = devUrl
  else delete process.env.ELECTRON_RENDERER_URL
  const home = mkdtempSync(join(tmpdir(), 'synthfold-main-'))
  homes.push(home)
  process.env.SYNTHFOLD_HOME = home
  await import('../../src/main/index')
  // Schemes are privileged at import time, before the app is ready.
  expect(fake.state.log).toEqual(['registerSchemesAsPrivileged', 'whenReady'])
  fake.state.ready()
  await vi.waitFor(() => expect(fake.state.loaded).toHaveLength(1))
  const quit = new Promise<void>((resolve) => (fake.state.quit = resolve))
  fake.state.appEvents['before-quit']({ preventDefault: () => {} })
  await quit
  return fake.state.loaded[0]
}

describe('the Electron main process', () => {
  it('registers app:// as privileged before ready and loads the renderer from it', async () => {
    expect(await start(true)).toBe('app://synthfold/index.html')
    expect(fake.state.schemes).toContainEqual({
      scheme: 'app',
      privileges: { standard: true, secure: true, supportFetchAPI: true },
    })
    expect(fake.state.handled).toEqual(expect.arrayContaining(['app', 'synthfold-media']))
  })

  it('honours ELECTRON_RENDERER_URL only in an unpackaged app', async () => {
    expect(await start(true, 'http://localhost:5173/')).toBe('app://synthfold/index.html')
    expect(await start(false, 'http://localhost:5173/')).toBe('http://localhost:5173/')
    expect(await start(false)).toBe('app://synthfold/index.html')
  })
})
