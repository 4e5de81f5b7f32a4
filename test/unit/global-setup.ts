import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * One folder per `vitest run` for fixtures that test files share (test/unit/helpers/trained-sample.ts):
 * the workers inherit its path, and it goes when the run ends.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'synthfold-shared-'))
  process.env.SYNTHFOLD_TEST_SHARED = dir
  return () => rmSync(dir, { recursive: true, force: true })
}
