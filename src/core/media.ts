import sharp from 'sharp'
import { datasetDir } from './paths'
import type { DatasetsRepo } from './db/datasets-repo'
import { channelCount } from '../shared/types'
import { PixelStore, ThumbPack } from './datasets/store'

export type MediaKind = 'thumb' | 'pixels'
export interface Media {
  mime: string
  body: Buffer
  /** A Content-Security-Policy for documents (the export report). */
  csp?: string
}

/**
 * Image bytes for the renderer, served through the custom protocol (Electron) or /media (web):
 * the stored preview when the source was larger than the training size, else the training pixels
 * themselves encoded as PNG ('pixels' always gives what the model sees).
 */
export async function readMedia(
  home: string,
  repo: DatasetsRepo,
  kind: MediaKind,
  imageId: number,
): Promise<Media | null> {
  const ref = repo.imageRef(imageId)
  if (!ref || ref.slot === null) return null
  const dir = datasetDir(home, ref.datasetId)
  if (kind === 'thumb' && ref.thumbOffset !== null && ref.thumbLength !== null) {
    const body = new ThumbPack(ThumbPack.fileFor(dir, ref.generation)).read(
      ref.thumbOffset,
      ref.thumbLength,
    )
    return { mime: 'image/webp', body }
  }
  const c = channelCount(ref.channels)
  const store = new PixelStore(
    PixelStore.fileFor(dir, ref.generation, ref.size, c),
    ref.size * ref.size * c,
  )
  try {
    const px = store.read(ref.slot)
    const body = await sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), {
      raw: { width: ref.size, height: ref.size, channels: c },
    })
      .png({ compressionLevel: 3 })
      .toBuffer()
    return { mime: 'image/png', body }
  } finally {
    store.close()
  }
}
