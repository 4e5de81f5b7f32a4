import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { eventNames, methodNames, type MethodName } from '../shared/names'
import type { Core } from '../core/core'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'

export interface WebHostOptions {
  core: Core
  /** The built renderer (out/renderer). */
  rendererDir: string
  port?: number
  token?: string
}

export interface WebHost {
  url: string
  /** The URL to open: it hands the browser the access token once, as a cookie. */
  loginUrl: string
  token: string
  close(): Promise<void>
}

const COOKIE = 'synthfold_token'
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
}

/**
 * The same contract as the Electron IPC, over HTTP and WebSocket on 127.0.0.1 only. Every request
 * needs the per-launch token (header or cookie), a Host of this address (no DNS rebinding) and,
 * when a browser sends one, a matching Origin.
 */
export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(24).toString('base64url')
  const tokenBuf = Buffer.from(token)
  let origin = ''
  const validToken = (t: string | undefined): boolean => {
    if (!t) return false
    const b = Buffer.from(t)
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf)
  }
  const authorised = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? ''
    if (
      `http://${host}` !== origin &&
      `http://${host.replace(/^localhost/, '127.0.0.1')}` !== origin
    )
      return false
    const o = req.headers.origin
    if (o && o !== origin && o !== origin.replace('127.0.0.1', 'localhost')) return false
    const header = req.headers['x-synthfold-token']
    return validToken(typeof header === 'string' ? header : cookie(req, COOKIE))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        send(res, 500, { ok: false, error: { code: 'internal', message: String(err) } })
      else res.destroy()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin)
    // A path that does not decode (a cut-off %-escape) is the client's error, not the server's.
    try {
      decodeURIComponent(url.pathname)
    } catch {
      return text(res, 400, 'Malformed URL: the path has an invalid %-escape.')
    }
    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('token')) {
      if (!validToken(url.searchParams.get('token') ?? undefined))
        return text(res, 403, 'Wrong token.')
      res.writeHead(303, {
        'Set-Cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: '/',
        'Cache-Control': 'no-store',
      })
      return void res.end()
    }
    if (!authorised(req)) {
      return text(
        res,
        403,
        'Forbidden. Open the address that `npm run serve` printed: it carries the access token.',
      )
    }
    if (url.pathname.startsWith('/api/'))
      return api(req, res, decodeURIComponent(url.pathname.slice(5)))
    if (url.pathname.startsWith('/media/')) return media(res, url.pathname)
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method not allowed')
    return staticFile(res, url.pathname)
  }

  async function api(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (req.method !== 'POST') return text(res, 405, 'Use POST')
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      return text(res, 415, 'Send JSON')
    if (!(methodNames as readonly string[]).includes(method)) {
      return send(res, 404, {
        ok: false,
        error: { code: 'not_found', message: `Unknown method: ${method}` },
      })
    }
    let body: unknown
    try {
      const raw = await readBody(req, BODY_LIMIT)
      body = raw.length ? JSON.parse(raw) : {}
    } catch (err) {
      if (err instanceof TooLarge)
        return send(res, 413, {
          ok: false,
          error: {
            code: 'invalid_argument',
            message: `Request body too large (over ${BODY_LIMIT >> 20} MiB).`,
          },
        })
      return send(res, 400, {
        ok: false,
        error: {
          code: 'invalid_argument',
          message: `Request body is not valid JSON (${(err as Error).message})`,
        },
      })
    }
    send(res, 200, await opts.core.call(method as MethodName, body))
  }

  async function media(res: ServerResponse, path: string): Promise<void> {
    // /media/thumb/7 and /media/pixels/7 are the dataset images; /media/run/… and /media/sample/…
    const rest = path.slice('/media/'.length)
    const found = await opts.core.mediaByPath(
      /^(thumb|pixels)\//.test(rest) ? `image/${rest}` : rest,
    )
    if (!found) return text(res, 404, 'No such image')
    res.writeHead(200, {
      'Content-Type': found.mime,
      'Cache-Control': 'private, max-age=60',
      'X-Content-Type-Options': 'nosniff',
      ...(found.csp ? { 'Content-Security-Policy': found.csp, 'Cache-Control': 'no-store' } : {}),
    })
    res.end(found.body)
  }

  async function staticFile(res: ServerResponse, pathname: string): Promise<void> {
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '')
    const file = normalize(join(opts.rendererDir, rel))
    if (!file.startsWith(opts.rendererDir + sep)) return text(res, 403, 'Forbidden')
    const st = await stat(file).catch(() => null)
    if (!st?.isFile()) return text(res, 404, 'Not found')
    const type = MIME[extname(file)] ?? 'application/octet-stream'
    const headers: Record<string, string> = {
      'Content-Type': type,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    }
    if (type.startsWith('text/html')) {
      headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY
      headers['X-Frame-Options'] = 'DENY'
    }
    res.writeHead(200, headers)
    res.end(await readFile(file))
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin)
    if (url.pathname !== '/events' || !authorised(req)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n')
      return socket.destroy()
    }
    wss.handleUpgrade(req, socket, head, (ws) => subscribe(ws))
  })

  function subscribe(ws: WebSocket): void {
    const offs = eventNames.map((event) =>
      opts.core.on(event, (payload) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }))
      }),
    )
    ws.on('close', () => offs.forEach((off) => off()))
    ws.on('error', () => ws.terminate())
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  origin = `http://127.0.0.1:${port}`
  return {
    url: `${origin}/`,
    loginUrl: `${origin}/?token=${token}`,
    token,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return undefined
}

const BODY_LIMIT = 1 << 20

class TooLarge extends Error {}

/**
 * The body as text, at most `limit` bytes. A larger one is read to its end and dropped, so the
 * client gets its 413 instead of a connection reset while it is still sending; only one past
 * 64 times the limit is cut off.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= limit) chunks.push(c)
      else if (size > 64 * limit) {
        reject(new TooLarge())
        req.destroy()
      }
    })
    req.on('end', () =>
      size > limit ? reject(new TooLarge()) : resolve(Buffer.concat(chunks).toString('utf8')),
    )
    req.on('error', reject)
  })
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  })
  res.end(JSON.stringify(body))
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(body)
}
