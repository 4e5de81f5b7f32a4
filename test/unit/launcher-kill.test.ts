import { afterAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Core } from '../../src/core/core'
import { importAndWait, ok } from './helpers/core'
import { tmp } from './helpers/messy'

const BIN = join(import.meta.dirname, '../../bin/synthfold.js')
const SAMPLE = join(import.meta.dirname, '../../resources/sample-fashion-mnist')

/** Live (not zombie) processes by pid, with their parent, from /proc. */
function processes(): Map<number, number> {
  const out = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (state !== 'Z' && state !== 'X') out.set(Number(name), Number(ppid))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

function descendants(root: number): number[] {
  const all = processes()
  const found: number[] = []
  let frontier = [root]
  while (frontier.length) {
    const next = [...all].filter(([, ppid]) => frontier.includes(ppid)).map(([pid]) => pid)
    found.push(...next)
    frontier = next
  }
  return found
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The Node that runs the launcher: this one (the CLI runs in-process), and an older system one (it hands over to a child). */
const launchers: [string, string][] = [['Node 22, CLI in-process', process.execPath]]
if (existsSync('/usr/bin/node')) {
  const major = Number(
    execFileSync('/usr/bin/node', ['-p', 'process.versions.node.split(".")[0]'], {
      encoding: 'utf8',
    }),
  )
  if (major < 22) launchers.push([`Node ${major}, CLI in a child`, '/usr/bin/node'])
}

describe.runIf(process.platform === 'linux')('killing the synthfold launcher', () => {
  const home = tmp('launcher')
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  it.each(launchers)(
    'takes the CLI and its training process with it (%s); the run shows as interrupted',
    async (_, node) => {
      const setup = new Core({ home, shell: 'cli' })
      const datasetId = (await importAndWait(setup, { path: SAMPLE })).summary!.datasetId
      await setup.close()

      const launcher = spawn(
        node,
        [BIN, 'train', String(datasetId), '--preset', 'fast', '--epochs', '200'],
        { env: { ...process.env, SYNTHFOLD_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let stderr = ''
      launcher.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      // training is going once the first epoch line is printed
      for (let i = 0; i < 600 && !/epoch 2:/.test(stderr); i++) await sleep(100)
      expect(stderr).toMatch(/epoch 2:/)
      const tree = descendants(launcher.pid!)
      expect(tree.length).toBeGreaterThan(0)
      launcher.kill('SIGKILL')

      let left = tree
      for (let i = 0; i < 100 && left.length; i++) {
        await sleep(100)
        const alive = processes()
        left = left.filter((pid) => alive.has(pid))
      }
      expect(left, `still running: ${left.join(', ')}`).toEqual([])

      const after = new Core({ home, shell: 'cli' })
      try {
        const [run] = await ok(after.call('runs.list', { datasetId }))
        expect(run.status, JSON.stringify(after.runsRepo.row(run.id))).toBe('interrupted')
        expect(run.checkpoints.length).toBeGreaterThan(0)
      } finally {
        await after.close()
      }
    },
    120_000,
  )
})
