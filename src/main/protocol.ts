import type { Protocol } from 'electron'
import type { Core } from './core/core'

export const MEDIA_SCHEME = 'synthfold-media'

/** synthfold-media://image/thumb/123: image bytes from the stores, never file:// or base64. */
export function handleMediaProtocol(protocol: Protocol, core: Core): void {
  protocol.handle(MEDIA_SCHEME, async (request) => {
    const url = request.url.split('?')[0]
    const m = /^synthfold-media:\/\/image\/(thumb|pixels)\/(\d+)$/.exec(url)
    const r = /^synthfold-media:\/\/run\/(\d+)\/(samples|recon)$/.exec(url)
    const found = m
      ? await core.media(m[1] as 'thumb' | 'pixels', Number(m[2]))
      : r
        ? await core.runPreview(Number(r[1]), r[2] as 'samples' | 'recon')
        : null
    if (!found) return new Response('Not found', { status: 404 })
    return new Response(new Uint8Array(found.body), {
      headers: { 'Content-Type': found.mime, 'Cache-Control': 'private, max-age=60' },
    })
  })
}
