import { test as base, expect, type Page } from '@playwright/test'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Host {
  url: string
  home: string
  process: ChildProcess
}

/** Starts `out/main/web.js` on a fresh SYNTHFOLD_HOME (a real SQLite file) and logs the browser in. */
async function startHost(): Promise<Host> {
  const home = mkdtempSync(join(tmpdir(), 'synthfold-e2e-'))
  const child = spawn(process.execPath, ['out/main/web.js'], {
    env: { ...process.env, SYNTHFOLD_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`web host did not start:\n${log}`)), 20_000)
    const onData = (d: Buffer): void => {
      log += d.toString()
      const m = /Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(log)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`web host exited (${code}):\n${log}`)))
  })
  return { url, home, process: child }
}

export const test = base.extend<{ host: Host; app: Page }>({
  // eslint-disable-next-line no-empty-pattern
  host: async ({}, use) => {
    const host = await startHost()
    await use(host)
    host.process.kill('SIGTERM')
    await new Promise((r) => host.process.once('exit', r))
    rmSync(host.home, { recursive: true, force: true })
  },
  /** The app's page; any page error or console error fails the test. */
  app: async ({ page, host }, use) => {
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`)
    })
    await page.goto(host.url)
    await use(page)
    expect(problems, 'page errors').toEqual([])
  },
})

export { expect }
