import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { datasetDir } from './util/paths'
import type { DatasetsRepo } from './db/datasets-repo'
import type { ExportsRepo } from './db/exports-repo'
import type { SamplesRepo } from './db/samples-repo'
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

/** What the media routes read from: the data folder, the repositories and the jobs' folders. */
export interface MediaSources {
  home: string
  datasets: DatasetsRepo
  exports: ExportsRepo
  samples: SamplesRepo
  runDir: (runId: number) => string
  generationDir: (generationId: number) => string
}

/**
 * The renderer's pictures by path, the same for both shells: `image/thumb/7`, `image/pixels/7`,
 * `run/3/samples`, `run/3/recon`, `sample/42`, `export/5/report`.
 */
export async function mediaByPath(src: MediaSources, path: string): Promise<Media | null> {
  const m = /^image\/(thumb|pixels)\/(\d+)$/.exec(path)
  if (m) return readMedia(src.home, src.datasets, m[1] as MediaKind, Number(m[2]))
  const r = /^run\/(\d+)\/(samples|recon)$/.exec(path)
  if (r) return runPreview(src, Number(r[1]), r[2] as 'samples' | 'recon')
  const s = /^sample\/(\d+)$/.exec(path)
  if (s) return sampleMedia(src, Number(s[1]))
  const e = /^export\/(\d+)\/report$/.exec(path)
  if (e) return exportReport(src, Number(e[1]))
  return null
}

/** The run page's pictures (samples per class, reconstructions), written by the run each epoch. */
async function runPreview(
  src: MediaSources,
  runId: number,
  kind: 'samples' | 'recon',
): Promise<Media | null> {
  const body = await readFile(join(src.runDir(runId), `preview-${kind}.png`)).catch(() => null)
  return body ? { mime: 'image/png', body } : null
}

/** A finished export's report.html, for the app to show (inline styles and images only). */
async function exportReport(src: MediaSources, exportId: number): Promise<Media | null> {
  const e = src.exports.get(exportId)
  if (!e || e.status !== 'completed') return null
  const body = await readFile(join(e.options.out, 'report.html')).catch(() => null)
  return body
    ? {
        mime: 'text/html; charset=utf-8',
        body,
        csp: "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'",
      }
    : null
}

/** A generated sample's PNG. */
async function sampleMedia(src: MediaSources, sampleId: number): Promise<Media | null> {
  const s = src.samples.sampleFile(sampleId)
  if (!s) return null
  const file = join(src.generationDir(s.generationId), 'samples', s.file)
  const body = await readFile(file).catch(() => null)
  return body ? { mime: 'image/png', body } : null
}
