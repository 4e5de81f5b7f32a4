import { afterAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Protocol } from 'electron'
import {
  APP_ENTRY_URL,
  appFileFor,
  isSameDocument,
  rendererUrl,
  serveAppRequest,
} from '../../src/main/app-protocol'
import { handleAppProtocol, MEDIA_SCHEME, PRIVILEGED_SCHEMES } from '../../src/main/protocol'
import { CONTENT_SECURITY_POLICY } from '../../src/shared/csp'

/** A built renderer beside a secret that must never be served. */
const base = mkdtempSync(join(tmpdir(), 'synthfold-app-protocol-'))
const renderer = join(base, 'renderer')
mkdirSync(join(renderer, 'assets'), { recursive: true })
writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Synthfold</title>')
writeFileSync(join(renderer, 'assets', 'index-1.js'), 'console.log(1)')
writeFileSync(join(renderer, 'assets', 'index-1.css'), 'body{}')
writeFileSync(join(renderer, 'assets', 'icon.svg'), '<svg/>')
writeFileSync(join(renderer, 'assets', 'blob.xyz'), 'x')
writeFileSync(join(base, 'secret.txt'), 'secret')
afterAll(() => rmSync(base, { recursive: true, force: true }))

const get = (url: string, method = 'GET'): Promise<Response> =>
  serveAppRequest(new Request(url, { method }), renderer)

describe('the app:// protocol', () => {
  it('serves the built renderer with its MIME type and the CSP on every response', async () => {
    const cases: [string, string, string][] = [
      [APP_ENTRY_URL, 'text/html; charset=utf-8', '<!doctype html>'],
      ['app://synthfold/', 'text/html; charset=utf-8', '<!doctype html>'],
      ['app://synthfold/assets/index-1.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
      ['app://synthfold/assets/index-1.css', 'text/css; charset=utf-8', 'body{}'],
      ['app://synthfold/assets/icon.svg', 'image/svg+xml', '<svg/>'],
      ['app://synthfold/assets/blob.xyz', 'application/octet-stream', 'x'],
      ['app://synthfold/index.html?x=1#/runs/3', 'text/html; charset=utf-8', '<!doctype html>'],
    ]
    for (const [url, type, start] of cases) {
      const res = await get(url)
      expect(res.status, url).toBe(200)
      expect(res.headers.get('content-type'), url).toBe(type)
      expect(res.headers.get('content-security-policy'), url).toBe(CONTENT_SECURITY_POLICY)
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff')
      expect((await res.text()).startsWith(start), url).toBe(true)
    }
  })

  it('refuses every way out of the renderer folder', async () => {
    const escapes = [
      'app://synthfold/../secret.txt',
      'app://synthfold/%2e%2e/secret.txt',
      'app://synthfold/assets/..%2f..%2fsecret.txt',
      'app://synthfold/..%5csecret.txt',
      'app://synthfold/%2e%2e%2fsecret.txt',
      `app://synthfold/${encodeURIComponent(join(base, 'secret.txt'))}`,
    ]
    for (const url of escapes) {
      const res = await get(url)
      expect([400, 403, 404], url).toContain(res.status)
      expect(await res.text(), url).not.toContain('secret')
      expect(res.headers.get('content-security-policy'), url).toBe(CONTENT_SECURITY_POLICY)
    }
    // The only hits are files inside the folder.
    for (const url of escapes) {
      const found = appFileFor(url, renderer)
      if ('file' in found) expect(found.file.startsWith(renderer), url).toBe(true)
    }
  })

  it('answers 404 for another host or a missing file, 400 for a bad escape, 405 for a POST', async () => {
    expect((await get('app://elsewhere/index.html')).status).toBe(404)
    expect((await get('app://synthfold/nope.js')).status).toBe(404)
    expect((await get('app://synthfold/assets')).status).toBe(404)
    expect((await get('app://synthfold/%E0%A4%A.js')).status).toBe(400)
    expect((await get('app://synthfold/a%00.js')).status).toBe(400)
    expect((await get(APP_ENTRY_URL, 'POST')).status).toBe(405)
  })

  it('is registered as a privileged scheme with a handler serving that folder', async () => {
    expect(PRIVILEGED_SCHEMES).toContainEqual({
      scheme: 'app',
      privileges: { standard: true, secure: true, supportFetchAPI: true },
    })
    expect(PRIVILEGED_SCHEMES.map((s) => s.scheme)).toContain(MEDIA_SCHEME)
    const handlers = new Map<string, (r: Request) => Promise<Response>>()
    const protocol = {
      handle: (scheme: string, h: (r: Request) => Promise<Response>) => handlers.set(scheme, h),
    } as unknown as Protocol
    handleAppProtocol(protocol, renderer)
    const res = await handlers.get('app')!(new Request('app://synthfold/assets/index-1.js'))
    expect(await res.text()).toBe('console.log(1)')
  })
})

describe('the renderer URL', () => {
  const env = { ELECTRON_RENDERER_URL: 'http://localhost:5173/' }
  it('is app://synthfold/index.html, and the dev server only in an unpackaged app', () => {
    expect(APP_ENTRY_URL).toBe('app://synthfold/index.html')
    expect(rendererUrl({ isPackaged: true }, env)).toBe(APP_ENTRY_URL)
    expect(rendererUrl({ isPackaged: false }, env)).toBe('http://localhost:5173/')
    expect(rendererUrl({ isPackaged: false }, {})).toBe(APP_ENTRY_URL)
    expect(rendererUrl({ isPackaged: true }, {})).toBe(APP_ENTRY_URL)
  })

  it('counts only the app document (any hash) as the app', () => {
    expect(isSameDocument('app://synthfold/index.html#/runs/2', APP_ENTRY_URL)).toBe(true)
    expect(isSameDocument('app://synthfold/other.html', APP_ENTRY_URL)).toBe(false)
    expect(isSameDocument('app://evil/index.html', APP_ENTRY_URL)).toBe(false)
    expect(isSameDocument('file:///index.html', APP_ENTRY_URL)).toBe(false)
    expect(isSameDocument('not a url', APP_ENTRY_URL)).toBe(false)
  })
})
