import type sharpModule from 'sharp'

export type SharpFn = typeof sharpModule

let loading: Promise<SharpFn> | null = null

/**
 * sharp (libvips), loaded on first use. Importing it costs about 30 ms per thread, and an import's
 * decoder threads often never need it: small PNGs at the training size take a faster path.
 */
export function loadSharp(): Promise<SharpFn> {
  loading ??= import('sharp').then(({ default: sharp }) => {
    sharp.concurrency(1)
    sharp.cache(false)
    return sharp
  })
  return loading
}
