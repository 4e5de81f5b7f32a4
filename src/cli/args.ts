import type { Core } from '../core/core'
import type { MethodName, MethodResults } from '../shared/contract'

export class UsageError extends Error {}

export interface Parsed {
  positional: string[]
  flags: Map<string, string | true>
}

export function parse(argv: string[], valued: string[], boolean: string[]): Parsed {
  const positional: string[] = []
  const flags = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) {
      positional.push(a)
      continue
    }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2)
    if (boolean.includes(name)) flags.set(name, true)
    else if (valued.includes(name)) {
      const v = inline ?? argv[++i]
      if (v === undefined) throw new UsageError(`--${name} needs a value`)
      flags.set(name, v)
    } else throw new UsageError(`Unknown option --${name}`)
  }
  return { positional, flags }
}

export async function call<M extends MethodName>(
  core: Core,
  method: M,
  args: unknown,
): Promise<MethodResults[M]> {
  const r = await core.call(method, args)
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code })
  return r.value
}

/** A number flag: undefined when absent, else a finite number (the contract checks its range). */
export function numberFlag(flags: Map<string, string | true>, name: string): number | undefined {
  const v = flags.get(name)
  if (v === undefined) return undefined
  const n = Number(v)
  if (v === true || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number`)
  return n
}
