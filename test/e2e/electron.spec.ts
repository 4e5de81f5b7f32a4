import { _electron as electron } from 'playwright'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { expect, test } from '@playwright/test'

/**
 * The installed Electron binary, or null. Read from the package's path.txt rather than by
 * require('electron'), which would try to download it (and fail without network).
 */
function electronBinary(): string | null {
  const pkg = dirname(createRequire(import.meta.url).resolve('electron/package.json'))
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH
  const pathFile = join(pkg, 'path.txt')
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron'
  const full = override ? join(override, name) : join(pkg, 'dist', name)
  return existsSync(full) ? full : null
}

test('the desktop app opens a secure window and imports the sample dataset', async () => {
  const binary = electronBinary()
  const reason =
    'the Electron binary is not installed on this machine (Electron downloads it on first use, and this machine has no access to its download server); this test runs wherever `npx install-electron` has fetched it'
  if (!binary) console.log(`SKIPPED electron e2e: ${reason}`)
  test.skip(!binary, reason)

  const home = mkdtempSync(join(tmpdir(), 'synthfold-electron-'))
  // The built renderer, never a dev server a shell may have left in the environment.
  const { ELECTRON_RENDERER_URL: _dev, ...env } = process.env
  const app = await electron.launch({
    executablePath: binary!,
    args: ['.'],
    env: { ...env, SYNTHFOLD_HOME: home } as Record<string, string>,
  })
  try {
    const win = await app.firstWindow()
    // Served by the app:// protocol (its own origin), not from file://.
    await win.waitForLoadState('domcontentloaded')
    expect(win.url()).toMatch(/^app:\/\/synthfold\/index\.html(#.*)?$/)
    expect(await win.evaluate(() => location.origin)).toBe('app://synthfold')
    // No Node in the page, and the bridge is exactly the contract's functions.
    const page = await win.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      api: Object.keys((window as unknown as { synthfold: object }).synthfold).sort(),
    }))
    expect(page.require).toBe('undefined')
    expect(page.process).toBe('undefined')
    expect(page.api).toContain('datasets.import')
    expect(page.api).not.toContain('send')
    await win.getByTestId('import-sample').click()
    await expect(win.getByTestId('dataset-card')).toContainText('356 images')
    await win.getByTestId('dataset-card').getByRole('button').click()
    await expect(win.getByTestId('thumbgrid').locator('img').first()).toBeVisible()
    await expect
      .poll(() =>
        win
          .getByTestId('thumbgrid')
          .locator('img')
          .first()
          .evaluate((i: HTMLImageElement) => i.naturalWidth),
      )
      .toBe(28)
  } finally {
    await app.close()
    rmSync(home, { recursive: true, force: true })
  }
})
