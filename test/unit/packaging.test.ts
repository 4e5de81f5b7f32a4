import { describe, expect, it, vi } from 'vitest'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Configuration } from 'electron-builder'
import type * as fuses from '@electron/fuses'
import { FuseV1Options, FuseVersion, type FuseConfig } from '@electron/fuses'
import { resourcesDir } from '../../src/core/util/paths'

const flipped = vi.hoisted(() => [] as [string, FuseConfig][])
vi.mock('@electron/fuses', async (original) => ({
  ...(await original<typeof fuses>()),
  flipFuses: async (binary: string, config: FuseConfig) => {
    flipped.push([binary, config])
    return 0
  },
}))

const root = resolve(import.meta.dirname, '../..')

/** The configuration as electron-builder itself reads it (electron-builder.yml and package.json). */
async function builderConfig(): Promise<Configuration> {
  const reader = await import('app-builder-lib/out/util/config/config.js')
  const config = await reader.getConfig(root, null, null)
  // Its own schema: a misspelt or removed key fails here rather than at packaging time.
  const quiet = { isEnabled: false, add: () => {} } as unknown as Parameters<
    typeof reader.validateConfiguration
  >[1]
  await reader.validateConfiguration(config, quiet)
  return config
}

describe('the packaging configuration', () => {
  it('packs only the build output into an asar, with native modules unpacked', async () => {
    const config = await builderConfig()
    expect(config.asar).toBe(true)
    // electron-builder merges the list into file sets; nothing but these two patterns, no `from`.
    const sets = [config.files].flat() as (string | { from?: string; filter?: string[] })[]
    expect(sets.flatMap((s) => (typeof s === 'string' ? [s] : (s.filter ?? [])))).toEqual([
      'out/**',
      'package.json',
    ])
    expect(sets.every((s) => typeof s === 'string' || s.from === undefined)).toBe(true)
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        '**/*.node',
        'node_modules/better-sqlite3/**',
        'node_modules/sharp/**',
        'node_modules/@img/**',
      ]),
    )
    // Those globs name packages that exist, so they do unpack something.
    for (const dir of ['better-sqlite3', 'sharp', '@img'])
      expect(existsSync(join(root, 'node_modules', dir)), dir).toBe(true)
    // The fuses are flipped by the hook, not a second time by electron-builder's own setting.
    expect(config.electronFuses ?? null).toBeNull()
  })

  it('ships the sample dataset where the packaged app looks for it', async () => {
    const config = await builderConfig()
    expect(config.extraResources).toEqual([
      { from: 'resources/sample-fashion-mnist', to: 'sample-fashion-mnist' },
    ])
    expect(existsSync(join(root, 'resources/sample-fashion-mnist'))).toBe(true)
    // A packaged app's resources folder holding it is where paths.ts reads it from.
    const fakeResources = mkdtempSync(join(tmpdir(), 'synthfold-resources-'))
    mkdirSync(join(fakeResources, 'sample-fashion-mnist'))
    const p = process as { resourcesPath?: string }
    const saved = p.resourcesPath
    try {
      p.resourcesPath = fakeResources
      expect(resourcesDir()).toBe(fakeResources)
    } finally {
      p.resourcesPath = saved
      rmSync(fakeResources, { recursive: true, force: true })
    }
  })

  it('builds AppImage and deb, an NSIS installer and a dmg, with `npm run dist`', async () => {
    const config = await builderConfig()
    expect(config.linux?.target).toEqual(['AppImage', 'deb'])
    expect(config.win?.target).toEqual(['nsis'])
    expect(config.mac?.target).toEqual(['dmg'])
    expect(config.productName).toBe('Synthfold')
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    expect(pkg.scripts.dist).toMatch(/^electron-vite build && electron-builder\b/)
    expect(pkg.main).toMatch(/^\.\/out\//)
  })

  it('flips the fuses in an afterPack hook, on the packaged binary of each platform', async () => {
    const config = await builderConfig()
    expect(config.afterPack).toBe('./scripts/after-pack.mjs')
    const hook = await import(join(root, config.afterPack as string))
    const expected = {
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    }
    const packager = { appInfo: { productFilename: 'Synthfold' }, executableName: 'synthfold' }
    const platforms: [string, string, boolean][] = [
      ['linux', '/o/linux-unpacked/synthfold', false],
      ['win32', '/o/win-unpacked/Synthfold.exe', false],
      ['darwin', '/o/mac-arm64/Synthfold.app', true],
    ]
    flipped.length = 0
    for (const [platform, binary] of platforms)
      await hook.default({
        appOutDir: binary.slice(0, binary.lastIndexOf('/')),
        electronPlatformName: platform,
        packager,
      })
    expect(flipped.map(([b]) => b)).toEqual(platforms.map(([, b]) => join(b)))
    flipped.forEach(([, fuses], i) =>
      expect(fuses).toEqual({ ...expected, resetAdHocDarwinSignature: platforms[i][2] }),
    )
  })
})
