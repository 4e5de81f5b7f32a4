import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cpSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { Core } from '../../../src/core/core'
import { loadTrainingData } from '../../../src/core/training/data-load'
import type { AuditEvent, AuditSummary } from '../../../src/shared/audit'
import type { ExportSummary } from '../../../src/shared/export'
import { importAndWait, ok, trainAndWait } from '../helpers/core'
import { tmp } from '../helpers/messy'

const SAMPLE = join(import.meta.dirname, '../../../resources/sample-fashion-mnist')
const KEPT = ['Bag', 'Dress', 'Sneaker', 'Trouser']

/** A 28 px checkerboard of 2 px squares: nothing like a garment. */
async function checkerboard(file: string): Promise<void> {
  const px = new Uint8Array(28 * 28)
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) px[y * 28 + x] = ((x >> 1) + (y >> 1)) % 2 ? 255 : 0
  await sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(file)
}

async function auditAndWait(
  core: Core,
  runId: number,
): Promise<{ audit: AuditSummary; events: AuditEvent[] }> {
  const events: AuditEvent[] = []
  let id = 0
  const done = new Promise<AuditSummary>((resolve) => {
    const off = core.on('audit', (e) => {
      events.push(e)
      if (e.type === 'status' && e.audit.id === id && e.audit.status !== 'running') {
        off()
        resolve(e.audit)
      }
    })
  })
  id = (await ok(core.call('audits.start', { runId }))).id
  return { audit: await done, events }
}

/**
 * On four classes of the shipped sample with two planted problems: a checkerboard filed as a dress (an
 * outlier) and a pair of trousers filed as a bag (a flipped label). A small run trains on it and
 * the audit must put each first in its list; then the person's relabel and exclusion change what
 * training, the class counts and the export see, and undo restores them.
 */
describe('audit and overrides on a planted sample', () => {
  let home: string
  let folder: string
  let core: Core
  let datasetId = 0
  let runId = 0
  let audit: AuditSummary
  const flipped = 'Bag/planted-trouser.png'
  const outlier = 'Dress/planted-checkerboard.png'

  beforeAll(async () => {
    home = tmp('audit')
    folder = join(tmp('audit-folder'), 'planted')
    // classes of the sample no real image of which looks like another's (shirts, T-shirts, coats,
    // pullovers do, and a white bag is near them), so the planted problems are the only ones
    for (const c of KEPT) cpSync(join(SAMPLE, c), join(folder, c), { recursive: true })
    const trouser = readdirSync(join(folder, 'Trouser')).filter((f) => f.endsWith('.png'))[0]
    renameSync(join(folder, 'Trouser', trouser), join(folder, flipped))
    await checkerboard(join(folder, outlier))
    core = new Core({ home, shell: 'cli' })
    datasetId = (await importAndWait(core, { path: folder })).summary!.datasetId
    runId = await trainAndWait(core, datasetId, {
      preset: 'fast',
      epochs: 12,
      baseFilters: 16,
      seed: 1,
    })
    audit = (await auditAndWait(core, runId)).audit
  }, 240_000)
  afterAll(async () => {
    await core.close()
    rmSync(home, { recursive: true, force: true })
    rmSync(join(folder, '..'), { recursive: true, force: true })
  })

  it('scores every image and ranks the planted outlier and flipped label first', async () => {
    expect(audit.status, audit.error ?? '').toBe('completed')
    expect(audit).toMatchObject({ runId, datasetId, missing: 0 })
    const ds = await ok(core.call('datasets.get', { id: datasetId }))
    expect(audit.images).toBe(ds.imageCount)
    const byLabel = await ok(core.call('audits.images', { auditId: audit.id, limit: 2000 }))
    expect(byLabel.total).toBe(ds.imageCount)
    for (const im of byLabel.items) {
      expect(Number.isFinite(im.anomalyScore)).toBe(true)
      expect(Number.isFinite(im.labelErrorScore)).toBe(true)
    }
    expect(byLabel.items[0]).toMatchObject({
      path: flipped,
      class: 'Bag',
      suggestedClass: 'Trouser',
    })
    const byAnomaly = await ok(
      core.call('audits.images', { auditId: audit.id, sort: 'anomaly', limit: 5 }),
    )
    expect(byAnomaly.items[0].path).toBe(outlier)
    // nearest images of the suggested class are real trousers
    const nearest = byLabel.items[0].nearest
    expect(nearest.length).toBeGreaterThan(0)
    const classOf = core.db.prepare(
      'SELECT c.name FROM images i JOIN classes c ON c.id = i.class_id WHERE i.id = ?',
    )
    for (const id of nearest) expect((classOf.get(id) as { name: string }).name).toBe('Trouser')
  })

  it('relabel and exclude change training data, counts, the audit lists and export; undo restores', async () => {
    const before = await ok(core.call('datasets.get', { id: datasetId }))
    const count = (ds: typeof before, name: string) =>
      ds.classes.find((c) => c.name === name)!.count
    const data = () => loadTrainingData(core.db, home, datasetId, 'include')
    const labelOf = (d: ReturnType<typeof data>, path: string) => {
      const id = (
        core.db.prepare('SELECT id FROM images WHERE rel_path = ?').get(path) as { id: number }
      ).id
      const i = Array.from(d.ids).indexOf(id)
      return i < 0 ? null : d.classNames[d.labels[i]]
    }
    expect(labelOf(data(), flipped)).toBe('Bag')

    const relabelled = await ok(
      core.call('datasets.relabel', { datasetId, path: flipped, className: 'Trouser' }),
    )
    expect(relabelled.override).toMatchObject({
      path: flipped,
      class: 'Trouser',
      originalClass: 'Bag',
      excluded: false,
    })
    expect(count(relabelled.dataset, 'Bag')).toBe(count(before, 'Bag') - 1)
    expect(count(relabelled.dataset, 'Trouser')).toBe(count(before, 'Trouser') + 1)
    expect(relabelled.dataset.overrides).toEqual({ relabelled: 1, excluded: 0 })
    expect(labelOf(data(), flipped)).toBe('Trouser')
    // read against its new label, it is no longer a suspect
    const suspects = await ok(
      core.call('audits.images', { auditId: audit.id, suspectsOnly: true, limit: 2000 }),
    )
    expect(suspects.items.map((s) => s.path)).not.toContain(flipped)

    const excluded = await ok(core.call('datasets.exclude', { datasetId, path: outlier }))
    expect(excluded.override).toMatchObject({ excluded: true })
    expect(excluded.dataset.imageCount).toBe(before.imageCount - 1)
    expect(labelOf(data(), outlier)).toBeNull()
    expect(labelOf(loadTrainingData(core.db, home, datasetId, 'only'), outlier)).toBeNull()
    const outliers = await ok(
      core.call('audits.images', { auditId: audit.id, sort: 'anomaly', limit: 5 }),
    )
    expect(outliers.items[0].path).not.toBe(outlier)

    // a run started now records the overrides it trains with
    const run2 = await trainAndWait(core, datasetId, { preset: 'fast', epochs: 1, baseFilters: 8 })
    const r2 = (await ok(core.call('runs.get', { runId: run2 }))).run
    expect(r2.overrides).toMatchObject({ relabelled: 1, excluded: 1 })
    expect(r2.trainImages! + r2.valImages!).toBe(
      excluded.dataset.imageCount - excluded.dataset.classes.reduce((a, c) => a + c.heldOut, 0),
    )

    // export: the new label, the original in its own column, the excluded image left out
    const out = join(folder, '..', 'export')
    const exp = await exportAndWait(core, { datasetId, out, include: 'real' })
    expect(exp.status).toBe('completed')
    const csv = readFileSync(join(out, 'metadata.csv'), 'utf8').trim().split('\n')
    expect(csv[0].split(',').slice(0, 3)).toEqual(['file_name', 'label', 'original_label'])
    const rows = csv.slice(1).map((l) => l.split(','))
    const moved = rows.filter((r) => r[1] === 'Trouser' && r[2] === 'Bag')
    expect(moved).toHaveLength(1)
    expect(moved[0][0]).toMatch(/^Trouser\//)
    expect(rows.filter((r) => r[2] !== '')).toHaveLength(1)
    expect(rows).toHaveLength(excluded.dataset.imageCount)
    expect(csv.some((l) => l.includes('planted-checkerboard'))).toBe(false)

    // undo both: back to the folders' labels and every image
    await ok(core.call('datasets.relabel', { datasetId, path: flipped, undo: true }))
    const restored = await ok(
      core.call('datasets.exclude', { datasetId, path: outlier, undo: true }),
    )
    expect(restored.override).toBeNull()
    expect(restored.dataset.classes.map((c) => [c.name, c.count])).toEqual(
      before.classes.map((c) => [c.name, c.count]),
    )
    expect(restored.dataset.overrides).toEqual({ relabelled: 0, excluded: 0 })
    expect(labelOf(data(), flipped)).toBe('Bag')
    expect(labelOf(data(), outlier)).toBe('Dress')
    expect(await ok(core.call('datasets.overrides', { datasetId }))).toEqual([])
  }, 120_000)

  it('cancels: the cancelled audit keeps no scores and the completed one is still read', async () => {
    let id = 0
    const ended = new Promise<AuditSummary>((resolve) => {
      const off = core.on('audit', (e) => {
        if (e.type === 'status' && e.audit.id === id && e.audit.status !== 'running') {
          off()
          resolve(e.audit)
        }
      })
    })
    const started = await ok(core.call('audits.start', { runId }))
    id = started.id
    expect(started.status).toBe('running')
    const again = await core.call('audits.start', { runId })
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } })
    expect(await ok(core.call('audits.cancel', { auditId: id }))).toEqual({ cancelled: true })
    const cancelled = await ended
    expect(cancelled).toMatchObject({ status: 'cancelled', images: 0 })
    const n = core.db.prepare('SELECT COUNT(*) AS n FROM audit_images WHERE audit_id = ?').get(id)
    expect(n).toEqual({ n: 0 })
    const latest = await ok(core.call('audits.latest', { runId }))
    expect(latest.latest?.id).toBe(id)
    expect(latest.completed?.id).toBe(audit.id)
    const listed = await ok(core.call('audits.images', { auditId: audit.id, limit: 1 }))
    expect(listed.total).toBeGreaterThan(0)
  })

  it('refuses unknown paths and classes with messages', async () => {
    const r1 = await core.call('datasets.relabel', {
      datasetId,
      path: 'Bag/nope.png',
      className: 'Trouser',
    })
    expect(r1).toMatchObject({ ok: false, error: { code: 'not_found' } })
    const r2 = await core.call('datasets.relabel', { datasetId, path: flipped, className: 'Hat' })
    expect(r2).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
    if (!r2.ok) expect(r2.error.message).toMatch(/No class "Hat".*Trouser/)
    const r3 = await core.call('datasets.exclude', { datasetId })
    expect(r3).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
  })
})

async function exportAndWait(
  core: Core,
  args: { datasetId: number; out: string; include: 'real' },
): Promise<ExportSummary> {
  let id = 0
  const done = new Promise<ExportSummary>((resolve) => {
    const off = core.on('export', (e) => {
      if (e.type === 'status' && e.export.id === id && e.export.status !== 'running') {
        off()
        resolve(e.export)
      }
    })
  })
  const started = await ok(core.call('exports.start', args))
  id = started.id
  if (started.status !== 'running') return started
  return done
}
