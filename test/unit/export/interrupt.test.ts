import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fork } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TEMP_SUFFIX } from '../../../src/core/export/safe-write'
import { cleanupExport, writeExport } from '../../../src/core/export/writer'
import { JOURNAL_NAME } from '../../../src/core/export/journal'
import { buildJob, expectedTree, writeSources } from './fixtures/job'
import { sha256, tmp, tree } from './helpers'

const N = 400
const SIZE = 64 << 10
const PAUSE_AT = 60

/** Files a user had in the folder before exporting into it (merge): none may change. */
function seed(root: string): void {
  mkdirSync(join(root, 'cat'), { recursive: true })
  mkdirSync(join(root, 'empty'))
  mkdirSync(join(root, '.git'))
  writeFileSync(join(root, 'notes.txt'), 'mine')
  writeFileSync(join(root, 'cat', 'mine.png'), 'also mine')
  writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/main')
}

/** Starts the export in a child process and SIGKILLs it once `PAUSE_AT` files are done. */
async function killMidway(root: string, srcDir: string): Promise<number> {
  const child = fork(
    join(import.meta.dirname, 'fixtures', 'export-child.ts'),
    [root, srcDir, String(N), String(SIZE), 'merge', String(PAUSE_AT)],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  )
  let last = 0
  const exited = new Promise((r) => child.once('exit', r))
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string; done?: number; message?: string }) => {
      if (m.type === 'progress') {
        last = m.done!
        if (last >= PAUSE_AT) {
          child.kill('SIGKILL')
          resolve()
        }
      } else reject(new Error(`the export was not killed in time: ${m.type} ${m.message ?? ''}`))
    })
    child.once('exit', () => resolve())
  })
  await exited
  return last
}

describe('an export killed part way', () => {
  let base: string
  const expected = expectedTree(N, SIZE)
  beforeAll(async () => {
    base = tmp('kill')
    mkdirSync(join(base, 'src'))
    writeSources(join(base, 'src'), N, SIZE)
    for (const d of ['killed', 'whole']) {
      mkdirSync(join(base, d))
      seed(join(base, d))
    }
    mkdirSync(join(base, 'seeded'))
    seed(join(base, 'seeded'))
    const reported = await killMidway(join(base, 'killed'), join(base, 'src'))
    expect(reported).toBeGreaterThanOrEqual(PAUSE_AT)
    cpSync(join(base, 'killed'), join(base, 'for-cleanup'), { recursive: true })
  })
  afterAll(() => rmSync(base, { recursive: true, force: true }))

  it('leaves every file under its final name complete, and the journal in place', () => {
    const root = join(base, 'killed')
    const seeded = tree(join(base, 'seeded'))
    const found = tree(root)
    let ours = 0
    let temps = 0
    for (const [rel, hash] of Object.entries(found)) {
      if (rel.endsWith('/') || rel === JOURNAL_NAME) continue
      if (rel.endsWith(TEMP_SUFFIX)) temps++
      else if (rel in seeded) expect(hash, rel).toBe(seeded[rel])
      else {
        expect(expected.has(rel), rel).toBe(true)
        expect(hash, rel).toBe(sha256(expected.get(rel)!))
        ours++
      }
    }
    expect(ours).toBeGreaterThanOrEqual(PAUSE_AT)
    expect(ours).toBeLessThan(N)
    expect(temps).toBeLessThanOrEqual(4)
    expect(existsSync(join(root, JOURNAL_NAME))).toBe(true)
    expect(existsSync(join(root, 'metadata.csv'))).toBe(false)
  })

  it('resumes to the same tree as an export that was never interrupted', async () => {
    const job = buildJob(join(base, 'src'), N, SIZE)
    const whole = await writeExport({ root: join(base, 'whole'), ...job, mode: 'merge' })
    expect(whole.skipped).toBe(0)
    const resumed = await writeExport({ root: join(base, 'killed'), ...job, mode: 'resume' })
    expect(resumed.skipped).toBeGreaterThanOrEqual(PAUSE_AT)
    expect(resumed.written).toEqual(whole.written)
    const a = tree(join(base, 'killed'))
    expect(a).toEqual(tree(join(base, 'whole')))
    expect(Object.keys(a).some((k) => k.endsWith(TEMP_SUFFIX) || k === JOURNAL_NAME)).toBe(false)
    expect(readFileSync(join(base, 'killed', 'metadata.csv'))).toEqual(expected.get('metadata.csv'))
    await expect(
      writeExport({ root: join(base, 'killed'), ...job, mode: 'resume' }),
    ).rejects.toMatchObject({ code: 'not_resumable' })
  })

  it('cleans up to exactly what was there before', async () => {
    const root = join(base, 'for-cleanup')
    const { removedFiles } = await cleanupExport(root)
    expect(removedFiles).toBeGreaterThanOrEqual(PAUSE_AT)
    expect(tree(root)).toEqual(tree(join(base, 'seeded')))
  })
})
