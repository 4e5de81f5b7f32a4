import type { CustomScheme, Protocol } from 'electron'
import type { Core } from '../core/core'
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, serveAppRequest } from './app-protocol'

export const MEDIA_SCHEME = 'synthfold-media'

/** Both of the app's schemes; `protocol.registerSchemesAsPrivileged` takes them before ready. */
export const PRIVILEGED_SCHEMES: CustomScheme[] = [
  { scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES },
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]

/** app://synthfold/… : the built renderer, and nothing outside its folder. */
export function handleAppProtocol(protocol: Protocol, rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(request, rendererDir))
}

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
