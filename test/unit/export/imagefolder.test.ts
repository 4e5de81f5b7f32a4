import { afterAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import sharp from 'sharp'
import { manifestCsv, type ManifestRow } from '../../../src/core/export/manifest'
import { assignFolderNames } from '../../../src/core/export/names'
import type { ExportFile } from '../../../src/core/export/files'
import { writeExport } from '../../../src/core/export/writer'
import { python, tmp } from './helpers'

interface Found {
  classes: string[]
  per_class: Record<string, { index: number; count: number }>
  rows: number
  per_label: Record<string, number>
  problems: string[]
}

const LABELS = ['cat', 'Cat', 'a/b', 'été', 'CON', '🐈 kitty', '..']
const COUNTS = [3, 2, 1, 4, 2, 3, 1]

const png = (i: number): Promise<Buffer> =>
  sharp({
    create: { width: 8, height: 8, channels: 3, background: { r: i * 10, g: 255 - i, b: 7 } },
  })
    .png()
    .toBuffer()

describe('an export read as an image-classification dataset', () => {
  const root = tmp('imagefolder')
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('has one folder per class, every image opens, and metadata.csv agrees', async () => {
    const folders = assignFolderNames(LABELS, ['metadata.csv'])
    const files: ExportFile[] = []
    const labelOf: string[] = []
    let n = 0
    LABELS.forEach((label, c) => {
      for (let k = 0; k < COUNTS[c]; k++, n++) {
        const i = n
        files.push({ rel: `${folders[c]}/img${i}.png`, source: { bytes: () => png(i) } })
        labelOf.push(label)
      }
    })
    await writeExport({
      root,
      files,
      mode: 'new',
      finalFiles: [
        {
          rel: 'metadata.csv',
          bytes: (written) => {
            const rows: ManifestRow[] = written.map((w, i) => ({
              file_name: w.rel,
              label: labelOf[i],
              original_label: null,
              split: null,
              is_synthetic: i % 2 === 1,
              source: i % 2 ? `run:1/checkpoint:best@2/seed:${i}` : `/data/${i}.png`,
              class_confidence: i % 2 ? 0.9 : null,
              novelty: null,
              sha256: w.sha256,
              origin: i % 2 ? 'cvae' : 'real',
              source_image: null,
              loss_weight: i % 2 ? 0.5 : 1,
            }))
            return Buffer.from(manifestCsv(rows))
          },
        },
      ],
    })
    const folderOf = Object.fromEntries(LABELS.map((l, c) => [l, folders[c]]))
    const found = python('imagefolder_check.py', [root, JSON.stringify(folderOf)]) as Found
    expect(found.problems).toEqual([])
    expect([...found.classes].sort()).toEqual([...folders].sort())
    for (const [c, folder] of folders.entries()) {
      expect(found.per_class[folder].count, folder).toBe(COUNTS[c])
      expect(found.per_label[LABELS[c]], LABELS[c]).toBe(COUNTS[c])
    }
    expect(found.rows).toBe(n)
  })
})
