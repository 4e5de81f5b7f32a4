import type { Protocol } from 'electron'
import type { Core } from '../core/core'

export const MEDIA_SCHEME = 'synthfold-media'

/**
 * synthfold-media://image/thumb/123 (and run/…, sample/…): image bytes from the stores, never
 * file:// or base64.
 */
export function handleMediaProtocol(protocol: Protocol, core: Core): void {
  protocol.handle(MEDIA_SCHEME, async (request) => {
    const url = request.url.split('?')[0]
    const path = url.startsWith(`${MEDIA_SCHEME}://`) ? url.slice(MEDIA_SCHEME.length + 3) : ''
    const found = path ? await core.mediaByPath(path) : null
    if (!found) return new Response('Not found', { status: 404 })
    return new Response(new Uint8Array(found.body), {
      headers: {
        'Content-Type': found.mime,
        'Cache-Control': 'private, max-age=60',
        ...(found.csp ? { 'Content-Security-Policy': found.csp } : {}),
      },
    })
  })
}
