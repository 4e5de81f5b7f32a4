import { readFile, stat } from 'node:fs/promises'
import { extname, isAbsolute, relative, resolve } from 'node:path'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'

/**
 * The renderer is served from app://synthfold/ rather than file://: a file:// page shares its
 * origin with every file on the disk, while this origin holds only the built renderer.
 */
export const APP_SCHEME = 'app'
export const APP_HOST = 'synthfold'
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

/**
 * Standard (real origin, relative URLs), secure (like https: no mixed-content downgrade) and
 * readable by fetch. Must be registered before the app is ready.
 */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true }

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
}

export const mimeType = (file: string): string =>
  MIME[extname(file).toLowerCase()] ?? 'application/octet-stream'

/**
 * The file under `rendererDir` that an app:// URL names, or why it is refused: another host,
 * a malformed escape, or a path that leaves the folder (`..`, encoded slashes, NUL).
 */
export function appFileFor(
  url: string,
  rendererDir: string,
): { file: string } | { status: 400 | 403 | 404 } {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return { status: 400 }
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return { status: 404 }
  let rel: string
  try {
    rel = decodeURIComponent(u.pathname)
  } catch {
    return { status: 400 }
  }
  if (rel.includes('\0')) return { status: 400 }
  if (rel === '/' || rel === '') rel = '/index.html'
  const root = resolve(rendererDir)
  const file = resolve(root, `.${rel}`)
  const inside = relative(root, file)
  if (!inside || inside.startsWith('..') || isAbsolute(inside)) return { status: 403 }
  return { file }
}

export interface ReadFile {
  (file: string): Promise<Uint8Array>
}

/** Answers one app:// request from the built renderer, with the app's CSP on every response. */
export async function serveAppRequest(
  request: Request,
  rendererDir: string,
  read: ReadFile = readFile,
): Promise<Response> {
  const base = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
  }
  const plain = (status: number, text: string): Response =>
    new Response(text, {
      status,
      headers: { ...base, 'Content-Type': 'text/plain; charset=utf-8' },
    })
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'Method not allowed')
  const found = appFileFor(request.url, rendererDir)
  if ('status' in found)
    return plain(found.status, found.status === 403 ? 'Forbidden' : 'Not found')
  const st = await stat(found.file).catch(() => null)
  if (!st?.isFile()) return plain(404, 'Not found')
  const body = request.method === 'HEAD' ? null : new Uint8Array(await read(found.file))
  return new Response(body, {
    status: 200,
    headers: { ...base, 'Content-Type': mimeType(found.file), 'Cache-Control': 'no-cache' },
  })
}

/**
 * The URL the window loads: the dev server's (ELECTRON_RENDERER_URL, set by `electron-vite dev`)
 * only in an unpackaged app, so a packaged build cannot be pointed at another page by its
 * environment.
 */
export function rendererUrl(
  app: { isPackaged: boolean },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const dev = env.ELECTRON_RENDERER_URL
  return !app.isPackaged && dev ? dev : APP_ENTRY_URL
}

/** True for the window's own document (any query or hash), false for anything else. */
export function isSameDocument(url: string, entry: string): boolean {
  try {
    const u = new URL(url)
    const a = new URL(entry)
    return u.protocol === a.protocol && u.host === a.host && u.pathname === a.pathname
  } catch {
    return false
  }
}
