import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ExportError,
  copyNew,
  removeTemps,
  toExportError,
  writeNew,
} from '../../../src/core/export/safe-write'
import { JOURNAL_NAME } from '../../../src/core/export/journal'
import type { ExportProgress } from '../../../src/core/export/files'
import { cleanupExport, writeExport } from '../../../src/core/export/writer'
import { buildJob, expectedTree, writeSources } from './fixtures/job'
import { tmp, tree } from './helpers'

const dirs: string[] = []
const newDir = (prefix: string): string => {
  const d = tmp(prefix)
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A small job with its sources in place. */
function job(n = 12, size = 1000): ReturnType<typeof buildJob> & { src: string } {
  const src = newDir('src')
  writeSources(src, n, size)
  return { ...buildJob(src, n, size), src }
}

describe('safe writes', () => {
  it('never overwrite an existing file, and leave no temporary file behind', async () => {
    const dir = newDir('sw')
    const target = join(dir, 'x.png')
    writeFileSync(target, 'original')
    await expect(writeNew(target, Buffer.from('new'))).rejects.toMatchObject({
      code: 'exists',
      message: expect.stringContaining(target),
    })
    writeFileSync(join(dir, 'src'), 'other')
    await expect(copyNew(join(dir, 'src'), target)).rejects.toMatchObject({ code: 'exists' })
    expect(readFileSync(target, 'utf8')).toBe('original')
    expect(readdirSync(dir).sort()).toEqual(['src', 'x.png'])
  })

  it('refuse to copy a source whose bytes changed since import', async () => {
    const dir = newDir('sw')
    writeFileSync(join(dir, 'src'), 'edited')
    await expect(
      copyNew(join(dir, 'src'), join(dir, 'dst'), 'ab'.repeat(32)),
    ).rejects.toMatchObject({ code: 'source_changed' })
    await expect(copyNew(join(dir, 'gone'), join(dir, 'dst'))).rejects.toMatchObject({
      code: 'source_changed',
    })
    expect(readdirSync(dir)).toEqual(['src'])
  })

  it('map file-system errors to codes and messages a person can act on', () => {
    const err = (code: string) => Object.assign(new Error(code), { code })
    expect(toExportError(err('ENOSPC'), '/x/y.png')).toMatchObject({
      code: 'disk_full',
      message: 'The disk is full: could not write /x/y.png.',
    })
    expect(toExportError(err('EDQUOT'), '/p').code).toBe('disk_full')
    expect(toExportError(err('EACCES'), '/p').code).toBe('permission')
    expect(toExportError(err('EPERM'), '/p').code).toBe('permission')
    expect(toExportError(err('EROFS'), '/p').message).toMatch(/read-only.*\/p/)
    expect(toExportError(err('EIO'), '/p')).toMatchObject({ code: 'io' })
    expect(toExportError(err('EIO'), '/p')).toBeInstanceOf(ExportError)
  })

  it('removeTemps removes only our temporary files', async () => {
    const dir = newDir('sw')
    mkdirSync(join(dir, 'a', 'b'), { recursive: true })
    writeFileSync(join(dir, 'a', 'b', '.x.png.0123.synthfold-tmp'), '')
    writeFileSync(join(dir, '.y.abc.synthfold-tmp'), '')
    writeFileSync(join(dir, 'a', 'keep.tmp'), '')
    expect(await removeTemps(dir)).toBe(2)
    expect(tree(dir)).toEqual({ 'a/': '', 'a/b/': '', 'a/keep.tmp': expect.any(String) })
  })
})

describe('writeExport', () => {
  it('writes every file, the manifests last, reports progress, and removes the journal', async () => {
    const j = job()
    const root = join(newDir('out'), 'new-folder')
    const progress: ExportProgress[] = []
    const res = await writeExport({ root, ...j, mode: 'new', onProgress: (p) => progress.push(p) })
    const want = expectedTree(12, 1000)
    const got = tree(root)
    expect(
      Object.keys(got)
        .filter((k) => !k.endsWith('/'))
        .sort(),
    ).toEqual([...want.keys()].sort())
    for (const [rel, data] of want) expect(readFileSync(join(root, rel)), rel).toEqual(data)
    expect(res.written.map((w) => w.rel)).toEqual(j.files.map((f) => f.rel))
    expect(res.skipped).toBe(0)
    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    expect(progress.at(-1)).toMatchObject({ total: 12, bytes: 12_000 })
    expect(existsSync(join(root, JOURNAL_NAME))).toBe(false)
  })

  it('refuses a folder that is not empty in new mode', async () => {
    const root = newDir('out')
    writeFileSync(join(root, 'notes.txt'), 'x')
    await expect(writeExport({ root, ...job(), mode: 'new' })).rejects.toMatchObject({
      code: 'not_empty',
      message: expect.stringMatching(/not empty.*another folder.*merge/),
    })
    expect(readdirSync(root)).toEqual(['notes.txt'])
  })

  it('refuses a merge that would overwrite, before writing anything', async () => {
    const j = job()
    const root = newDir('out')
    const taken = j.files[3].rel
    mkdirSync(join(root, taken.split('/')[0]))
    writeFileSync(join(root, taken), 'precious')
    writeFileSync(join(root, 'metadata.csv'), 'precious too')
    const before = tree(root)
    const err = await writeExport({ root, ...j, mode: 'merge' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'exists' })
    expect((err as Error).message).toContain('2 path(s)')
    expect((err as Error).message).toContain(taken)
    expect((err as Error).message).toContain('Nothing was written')
    expect(tree(root)).toEqual(before)
  })

  it('merges into a folder with other files and leaves them alone', async () => {
    const root = newDir('out')
    writeFileSync(join(root, 'readme.md'), 'hello')
    await writeExport({ root, ...job(), mode: 'merge' })
    expect(readFileSync(join(root, 'readme.md'), 'utf8')).toBe('hello')
    expect(existsSync(join(root, 'metadata.csv'))).toBe(true)
  })

  it('stops when asked, keeps what it wrote, and can be resumed or cleaned up', async () => {
    const j = job(40)
    const root = join(newDir('out'), 'export')
    let calls = 0
    const err = await writeExport({
      root,
      ...j,
      mode: 'new',
      concurrency: 2,
      shouldStop: () => ++calls > 10,
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'cancelled' })
    expect((err as Error).message).toMatch(/cancelled\. 10 of 40 files were written.*resumed/)
    expect(existsSync(join(root, JOURNAL_NAME))).toBe(true)
    const other = buildJob(j.src, 39, 1000)
    await expect(writeExport({ root, ...other, mode: 'resume' })).rejects.toMatchObject({
      code: 'not_resumable',
    })
    await expect(writeExport({ root, ...j, mode: 'merge' })).rejects.toMatchObject({
      code: 'not_empty',
    })
    const res = await writeExport({ root, ...j, mode: 'resume' })
    expect(res.skipped).toBe(10)
    expect(existsSync(join(root, JOURNAL_NAME))).toBe(false)
    // and the same again, cleaned up instead: the folder it created goes too
    const root2 = join(newDir('out'), 'export')
    await writeExport({ root: root2, ...j, mode: 'new', shouldStop: () => true }).catch(() => 0)
    await cleanupExport(root2)
    expect(existsSync(root2)).toBe(false)
  })

  it('refuses to resume over a file whose source changed meanwhile', async () => {
    const j = job(6)
    const root = newDir('out')
    await writeExport({ root, ...j, mode: 'new', shouldStop: () => true }).catch(() => 0)
    // a file under its final name that is not what the job would write now
    writeFileSync(join(root, j.files[0].rel), 'tampered')
    await expect(writeExport({ root, ...j, mode: 'resume' })).rejects.toMatchObject({
      code: 'source_changed',
    })
  })

  it('refuses paths that leave the root or repeat ignoring case', async () => {
    const root = newDir('out')
    const bytes = async () => Buffer.from('x')
    for (const rel of ['../x', '/abs', 'a//b', 'a\\b', JOURNAL_NAME, 'c:x']) {
      await expect(
        writeExport({ root, files: [{ rel, source: { bytes } }], finalFiles: [], mode: 'new' }),
      ).rejects.toThrow(/Not a valid relative export path/)
    }
    const files = ['Cat/x.png', 'cat/x.png'].map((rel) => ({ rel, source: { bytes } }))
    await expect(writeExport({ root, files, finalFiles: [], mode: 'new' })).rejects.toThrow(
      /ignoring case/,
    )
    expect(readdirSync(root)).toEqual([])
  })
})
