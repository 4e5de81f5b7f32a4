/**
 * What an export holds, read from the database: the real images (by source path, copied byte for
 * byte when the format is one every ImageFolder-style loader reads) and the accepted synthetic
 * samples (with their provenance), each with its final relative path and manifest fields.
 */
import { join } from 'node:path'
import type { Database } from 'better-sqlite3'
import sharp from 'sharp'
import type { ExportClassCount, ExportOptions, MixedSizes } from '../../shared/export'
import type { ManifestRow } from './manifest'
import { assignFolderNames, nameKey, safeName } from './names'
import { assignSplits, type Split } from './splits'
import type { ExportFile } from './files'

/** Formats copied as they are; others (GIF: not read by torchvision's ImageFolder) become PNG. */
const COPY_EXT: Record<string, string> = {
  png: '.png',
  jpeg: '.jpg',
  bmp: '.bmp',
  webp: '.webp',
  tiff: '.tif',
}

/** Names the export writes beside the class folders. */
export const RESERVED_NAMES = [
  'metadata.csv',
  'metadata.jsonl',
  'report.html',
  'class_weights.json',
  'evaluation_split.json',
]

export interface PlannedFile extends ExportFile {
  meta: Omit<ManifestRow, 'file_name' | 'sha256' | 'loss_weight'>
  /** The generation a synthetic image comes from (null for a real one). */
  generationId: number | null
  classIndex: number
  synthetic: boolean
  /** For the report's sample sheets. */
  preview: string
  /** A real image of the dataset's evaluation split (runs never trained on it). */
  evaluationSplit: boolean
}

export interface ExportContents {
  files: PlannedFile[]
  classes: ExportClassCount[]
  generations: { id: number; runId: number; accepted: number }[]
  /** Null when every image has the export's one size. */
  mixedSizes: MixedSizes | null
  /**
   * Augmented copies of real images that the splits put in val or test, left out: in train they
   * would let the model see its test images.
   */
  heldOutCopies: number
}

interface RealRow {
  held_out: 0 | 1
  rel_path: string
  format: string | null
  sha256: string | null
  width: number | null
  height: number | null
  class_name: string
  original_class_name: string
}

interface SampleRow {
  generation_id: number
  run_id: number
  checkpoint_kind: string
  checkpoint_epoch: number
  class_names: string
  class_index: number
  seed: number
  file: string
  confidence: number
  novelty: number
  source: 'cvae' | 'augment'
  /** The augmented sample's real image, relative to the dataset's root (null: none, or gone). */
  source_rel: string | null
}

export function exportContents(
  db: Database,
  generationFolder: (id: number) => string,
  o: Pick<
    ExportOptions,
    'datasetId' | 'include' | 'splits' | 'seed' | 'generationIds' | 'upscale' | 'realImages'
  >,
): ExportContents {
  const ds = db
    .prepare('SELECT root, size, channels, fit FROM datasets WHERE id = ?')
    .get(o.datasetId) as
    | {
        root: string
        size: number
        channels: 'gray' | 'rgb' | 'rgba'
        fit: 'cover' | 'contain' | 'fill'
      }
    | undefined
  if (!ds) throw new Error(`No dataset with id ${o.datasetId}.`)
  const reals =
    o.include === 'synthetic'
      ? []
      : (db
          .prepare(
            `SELECT i.rel_path, i.format, i.sha256, i.width, i.height, i.held_out, c.name AS class_name,
                    oc.name AS original_class_name
             FROM labelled_images i JOIN classes c ON c.id = i.class_id JOIN classes oc ON oc.id = i.original_class_id
             WHERE i.dataset_id = ? ORDER BY i.rel_path`,
          )
          .all(o.datasetId) as RealRow[])
  const gens = db
    .prepare('SELECT id, run_id FROM generations WHERE dataset_id = ? ORDER BY id')
    .all(o.datasetId) as { id: number; run_id: number }[]
  const chosen = gens.filter((g) => !o.generationIds || o.generationIds.includes(g.id))
  const samples =
    o.include === 'real' || !chosen.length
      ? []
      : (db
          .prepare(
            `SELECT s.generation_id, g.run_id, g.checkpoint_kind, g.checkpoint_epoch, g.class_names, s.class_index, s.seed, s.file,
                    s.confidence, s.novelty, s.source, i.rel_path AS source_rel
             FROM samples s JOIN generations g ON g.id = s.generation_id
             LEFT JOIN images i ON i.id = s.source_image_id
             WHERE s.status = 'accepted' AND s.generation_id IN (${chosen.map(() => '?').join(',')})
             ORDER BY s.generation_id, s.class_index, s.seed`,
          )
          .all(...chosen.map((g) => g.id)) as SampleRow[])
  const sampleClass = (s: SampleRow) => (JSON.parse(s.class_names) as string[])[s.class_index]

  // Class order: the dataset's classes, then any only the generations know, by name.
  const labels = [...new Set([...reals.map((r) => r.class_name), ...samples.map(sampleClass)])]
  const folders = assignFolderNames(labels, RESERVED_NAMES)
  const index = new Map(labels.map((l, i) => [l, i]))
  const split = o.splits
    ? assignSplits(
        reals.map((r) => ({
          key: r.rel_path,
          classIndex: index.get(r.class_name)!,
          test: r.held_out === 1,
        })),
        o.splits,
        o.seed,
      )
    : null
  const taken = new Set<string>()
  const place = (dir: string, stem: string, ext: string): string => {
    let n = 1
    let name = `${stem}${ext}`
    while (taken.has(nameKey(`${dir}/${name}`))) name = `${stem}~${++n}${ext}`
    taken.add(nameKey(`${dir}/${name}`))
    return `${dir}/${name}`
  }
  const dirOf = (c: number, s: Split | null) => (s ? `${s}/${folders[c]}` : folders[c])

  // One size for the whole export unless asked otherwise: a DataLoader stacks a batch only when
  // every image has the same shape.
  const size = o.upscale?.size ?? ds.size
  const kernel = o.upscale?.method ?? 'lanczos3'
  const asIs = o.realImages === 'as-is'
  const atSize = (r: RealRow) => r.width === size && r.height === size
  const resized = (source: string) => () => {
    const img = sharp(source)
      .rotate()
      .resize(size, size, { fit: ds.fit, kernel, background: '#ffffff' })
    return (ds.channels === 'gray' ? img.greyscale() : img).png({ compressionLevel: 9 }).toBuffer()
  }
  const files: PlannedFile[] = []
  const counts = labels.map((l, i) => ({ className: l, folder: folders[i], real: 0, synthetic: 0 }))
  for (const r of reals) {
    const c = index.get(r.class_name)!
    const s = split?.get(r.rel_path) ?? null
    const source = join(ds.root, r.rel_path)
    // the file's path under its class folder, flattened: sub/dir/x.png -> sub__dir__x
    const below = r.rel_path.split('/').slice(1).join('__') || r.rel_path
    const stem = safeName(below.replace(/\.[^./]*$/, ''), 180)
    const copyExt = r.format && (asIs || atSize(r)) ? COPY_EXT[r.format] : undefined
    const rel = place(dirOf(c, s), stem, copyExt ?? '.png')
    files.push({
      rel,
      source: copyExt
        ? { copy: source, sha256: r.sha256 }
        : asIs || atSize(r)
          ? { bytes: () => sharp(source).png({ compressionLevel: 9 }).toBuffer() }
          : { bytes: resized(source) },
      meta: {
        label: r.class_name,
        original_label: r.original_class_name === r.class_name ? null : r.original_class_name,
        split: s,
        is_synthetic: false,
        source,
        class_confidence: null,
        novelty: null,
        origin: 'real',
        // itself: rows that share a source_image belong together (in one split)
        source_image: source,
      },
      generationId: null,
      classIndex: c,
      synthetic: false,
      preview: source,
      evaluationSplit: r.held_out === 1,
    })
    counts[c].real++
  }
  let heldOutCopies = 0
  for (const smp of samples) {
    const c = index.get(sampleClass(smp))!
    const s: Split | null = split ? 'train' : null
    const augmented = smp.source === 'augment'
    if (
      augmented &&
      split &&
      smp.source_rel &&
      (split.get(smp.source_rel) ?? 'train') !== 'train'
    ) {
      heldOutCopies++
      continue
    }
    const path = join(generationFolder(smp.generation_id), 'samples', smp.file)
    const stem = `${augmented ? 'augmented' : 'synthetic'}-g${smp.generation_id}-s${smp.seed}`
    const rel = place(dirOf(c, s), stem, '.png')
    const up = o.upscale
    files.push({
      rel,
      source: up
        ? {
            bytes: () =>
              sharp(path)
                .resize(up.size, up.size, { kernel: up.method, fit: 'fill' })
                .png({ compressionLevel: 9 })
                .toBuffer(),
          }
        : { copy: path },
      meta: {
        label: sampleClass(smp),
        original_label: null,
        split: s,
        is_synthetic: true,
        source: augmented
          ? `run:${smp.run_id}/augment/seed:${smp.seed}`
          : `run:${smp.run_id}/checkpoint:${smp.checkpoint_kind}@${smp.checkpoint_epoch}/seed:${smp.seed}`,
        class_confidence: smp.confidence,
        novelty: smp.novelty,
        origin: smp.source,
        source_image: augmented && smp.source_rel ? join(ds.root, smp.source_rel) : null,
      },
      generationId: smp.generation_id,
      classIndex: c,
      synthetic: true,
      preview: path,
      evaluationSplit: false,
    })
    counts[c].synthetic++
  }
  const realSides = asIs
    ? [...new Set(reals.map((r) => Math.max(r.width ?? 0, r.height ?? 0)))].sort((a, b) => a - b)
    : []
  const mixed =
    asIs &&
    reals.length > 0 &&
    (samples.length > 0
      ? reals.some((r) => !atSize(r))
      : new Set(reals.map((r) => `${r.width}x${r.height}`)).size > 1)
  return {
    files,
    classes: counts,
    mixedSizes: mixed ? { real: realSides, synthetic: size } : null,
    heldOutCopies,
    generations: chosen.map((g) => ({
      id: g.id,
      runId: g.run_id,
      accepted: samples.filter((s) => s.generation_id === g.id).length,
    })),
  }
}
