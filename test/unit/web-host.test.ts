import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'node:http'
import WebSocket from 'ws'
import { Core } from '../../src/core/core'
import { startWebHost, type WebHost } from '../../src/web/server'
import { tmp } from './helpers/messy'

function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
        let body = ''
        res.on('data', (c) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on('error', reject)
      req.end(opts.body)
    },
  )
}

describe('the local web host', () => {
  let home: string
  let rendererDir: string
  let core: Core
  let host: WebHost
  beforeAll(async () => {
    home = tmp('web')
    rendererDir = join(home, 'renderer')
    mkdirSync(rendererDir)
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>')
    core = new Core({ home, shell: 'web' })
    host = await startWebHost({ core, rendererDir })
  })
  afterAll(async () => {
    await host.close()
    await core.close()
    rmSync(home, { recursive: true, force: true })
  })

  const json = (token?: string) => ({
    'Content-Type': 'application/json',
    ...(token ? { 'X-Synthfold-Token': token } : {}),
  })

  it('listens on 127.0.0.1 only', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
  })

  it('refuses requests without the per-launch token', async () => {
    expect(
      (await http(`${host.url}api/datasets.list`, { method: 'POST', headers: json(), body: '{}' }))
        .status,
    ).toBe(403)
    expect(
      (
        await http(`${host.url}api/datasets.list`, {
          method: 'POST',
          headers: json('wrong-token-wrong-token-wrong-to'),
          body: '{}',
        })
      ).status,
    ).toBe(403)
    expect((await http(host.url)).status).toBe(403)
  })

  it('refuses a foreign Host or Origin even with the token (DNS rebinding, CSRF)', async () => {
    const r1 = await http(`${host.url}api/datasets.list`, {
      method: 'POST',
      headers: { ...json(host.token), Host: 'evil.example' },
      body: '{}',
    })
    expect(r1.status).toBe(403)
    const r2 = await http(`${host.url}api/datasets.list`, {
      method: 'POST',
      headers: { ...json(host.token), Origin: 'https://evil.example' },
      body: '{}',
    })
    expect(r2.status).toBe(403)
  })

  it('serves the contract over HTTP with the same results and errors as IPC', async () => {
    const ok = await http(`${host.url}api/datasets.list`, {
      method: 'POST',
      headers: json(host.token),
      body: '{}',
    })
    expect(JSON.parse(ok.body)).toEqual({ ok: true, value: [] })
    const bad = await http(`${host.url}api/datasets.import`, {
      method: 'POST',
      headers: json(host.token),
      body: '{"path":"/x","size":1000}',
    })
    expect(JSON.parse(bad.body)).toEqual({
      ok: false,
      error: {
        code: 'invalid_argument',
        message: 'Invalid arguments for datasets.import: size: the size must be at most 128 px',
      },
    })
    const unknown = await http(`${host.url}api/shell.exec`, {
      method: 'POST',
      headers: json(host.token),
      body: '{}',
    })
    expect(unknown.status).toBe(404)
    const notJson = await http(`${host.url}api/datasets.list`, {
      method: 'POST',
      headers: json(host.token),
      body: '{nope',
    })
    expect(JSON.parse(notJson.body).error.code).toBe('invalid_argument')
  })

  it('answers a malformed URL with 400 and an oversized body with 413 (not 500, not a reset)', async () => {
    for (const path of ['%E0%A4%A', 'api/%E0%A4%A', 'media/%E0%A4%A']) {
      const r = await http(`${host.url}${path}`, {
        method: path.startsWith('api/') ? 'POST' : 'GET',
        headers: json(host.token),
        body: path.startsWith('api/') ? '{}' : undefined,
      })
      expect(r.status, path).toBe(400)
    }
    const big = JSON.stringify({ pad: 'x'.repeat(2 << 20) })
    const r = await http(`${host.url}api/datasets.list`, {
      method: 'POST',
      headers: json(host.token),
      body: big,
    })
    expect(r.status).toBe(413)
    expect(JSON.parse(r.body).error.message).toMatch(/too large/)
    // the same without a Content-Length (chunked), cut off while it streams
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${host.url}api/datasets.list`,
        { method: 'POST', headers: { ...json(host.token), 'Transfer-Encoding': 'chunked' } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      for (let i = 0; i < 40; i++) req.write('x'.repeat(64 * 1024))
      req.end()
    })
    expect(chunked).toBe(413)
    // and the host still answers
    expect(
      (
        await http(`${host.url}api/datasets.list`, {
          method: 'POST',
          headers: json(host.token),
          body: '{}',
        })
      ).status,
    ).toBe(200)
  })

  it('exchanges the login URL for an HttpOnly cookie and serves the page with a CSP', async () => {
    const login = await http(host.loginUrl)
    expect(login.status).toBe(303)
    const cookie = String(login.headers['set-cookie']).split(';')[0]
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/)
    const page = await http(host.url, { headers: { Cookie: cookie } })
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/)
    expect(
      (await http(`${host.url}..%2F..%2Fetc%2Fpasswd`, { headers: { Cookie: cookie } })).status,
    ).toBe(403)
  })

  it('streams events over a WebSocket that needs the token', async () => {
    const refused = new WebSocket(`${host.url.replace('http', 'ws')}events`)
    await expect(
      new Promise((res, rej) => {
        refused.on('open', res)
        refused.on('error', rej)
      }),
    ).rejects.toThrow(/403/)
    const ws = new WebSocket(`${host.url.replace('http', 'ws')}events`, {
      headers: { 'X-Synthfold-Token': host.token },
    })
    await new Promise((r) => ws.on('open', r))
    const got = new Promise((r) => ws.on('message', (m) => r(JSON.parse(String(m)))))
    core.emit('job', {
      type: 'failed',
      jobId: 'j',
      kind: 'import',
      error: { code: 'io', message: 'x' },
    })
    expect(await got).toEqual({
      event: 'job',
      payload: { type: 'failed', jobId: 'j', kind: 'import', error: { code: 'io', message: 'x' } },
    })
    ws.close()
  })
})
