import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ESLint } from 'eslint'
import { afterAll, describe, expect, it } from 'vitest'

// The layering of src/ (eslint.layers.js) is kept by `npm run lint`: these are the imports it
// must refuse, linted as files at the places they would live.
const root = join(import.meta.dirname, '../../..')
const eslint = new ESLint({ cwd: root })

async function ruleIds(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) })
  return result.messages.map((m) => m.ruleId ?? m.message)
}

describe('the layering of src/', () => {
  const scratch = mkdtempSync(join(root, 'src/core/util/lint-probe-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('refuses a repository that imports a job, and a model that names a kernel file', async () => {
    const db = await ruleIds(
      'src/core/db/probe.ts',
      "import type { RunManager } from '../jobs/run-jobs'\nexport type X = RunManager\n",
    )
    expect(db).toContain('import-x/no-restricted-paths')
    const model = await ruleIds(
      'src/core/models/cvae/probe.ts',
      "import { conv2dBackpropFilter } from '../../accel/conv-gradients'\nexport const y = conv2dBackpropFilter\n",
    )
    expect(model).toContain('import-x/no-restricted-paths')
  })

  it("lets a model use the accelerator's facade, and the renderer only the contract", async () => {
    const model = await ruleIds(
      'src/core/models/cvae/probe.ts',
      "import { bceWithLogits } from '../../accel/ops'\nexport const y = bceWithLogits\n",
    )
    expect(model).toEqual([])
    const view = await ruleIds(
      'src/renderer/src/probe.ts',
      "import { Core } from '../../core/core'\nexport const c = Core\n",
    )
    expect(view).toContain('import-x/no-restricted-paths')
  })

  it('keeps Node out of the shared contract', async () => {
    const shared = await ruleIds(
      'src/shared/probe.ts',
      "import { readFileSync } from 'node:fs'\nexport const r = readFileSync\n",
    )
    expect(shared).toContain('no-restricted-imports')
  })

  it('refuses an import cycle', async () => {
    const a = join(scratch, 'a.ts')
    const b = join(scratch, 'b.ts')
    writeFileSync(a, "import { b } from './b'\nexport const a = (): number => b() + 1\n")
    writeFileSync(b, "import { a } from './a'\nexport const b = (): number => a() - 1\n")
    const results = await eslint.lintFiles([relative(root, a), relative(root, b)])
    const ids = results.flatMap((r) => r.messages.map((m) => m.ruleId))
    expect(ids).toContain('import-x/no-cycle')
  })
})
