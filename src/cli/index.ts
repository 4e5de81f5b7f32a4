/**
 * synthfold: the command line over the same core and contract as the app. See USAGE.
 */
import { Core } from '../core/core'
import { UsageError } from './args'
import { safe } from './terminal'
import { datasetsCommand, importCommand } from './datasets'
import { generateCommand } from './generate'
import { evaluateCommand } from './evaluate'
import { auditCommand, excludeCommand, relabelCommand } from './audit'
import { exportCommand, exportGeneratorCommand } from './export'
import { interpolateCommand, mapCommand } from './studio'
import { doctorCommand, resumeCommand, sampleCommand, trainCommand } from './train'

const USAGE = `Usage:
  synthfold import <folder> [--name N] [--size PX] [--channels gray|rgb|rgba] [--fit cover|contain|fill] [--json]
  synthfold datasets [--json]
  synthfold train <dataset> [--preset fast|balanced|quality] [--model cvae|wae|vqvae] [--epochs N] [--latent N]
                            [--seed S] [--batch-size N] [--lr X] [--time-budget SECONDS]
                            [--backend auto|tensorflow|wasm|cpu] [--json]
                            cvae:   [--beta B] (KL weight: higher gives smoother, more varied, blurrier samples)
                            wae:    [--wae-lambda L] (MMD weight, default 100) [--wae-encoder deterministic|stochastic]
                            vqvae:  [--codebook-size K] [--code-dim D] [--commitment W] [--no-ema]
                                    [--prior-epochs N] (stage 2: the prior over the codes, after --epochs of stage 1)
  synthfold resume <run> [--json]
  synthfold sample <run> --class C --n N --out DIR [--temperature T] [--seed S] [--checkpoint best|last] [--json]
  synthfold generate <run> [--strategy not-majority|not-minority|minority|all|CLASS=N,...] [--max-ratio R|none]
                           [--temperature T] [--checkpoint best|last] [--min-confidence P]
                           [--augment CLASS,... [--no-flip CLASS,...|all]] [--json]
  synthfold generate --refill <generation> [--json]   generate the rest of a generation's plan
  synthfold evaluate <generation> [--seeds N] [--epochs N] [--json]   does it help a classifier?
  synthfold audit <run> [--again] [--json]   outliers and likely label errors (audits if needed)
  synthfold relabel <dataset> --path P --class C [--undo] [--json]   P relative to the dataset's folder
  synthfold exclude <dataset> --path P [--undo] [--json]
  synthfold export <dataset> --out DIR [--splits 0.8,0.1,0.1] [--include accepted|real|synthetic] [--zip]
                            [--merge] [--seed S] [--generation ID,...] [--upscale PX [--upscale-method lanczos3|nearest]]
                            [--real-images match|as-is] [--metadata csv|jsonl] [--class-weights] [--json]
  synthfold export --resume ID [--json]      finish an interrupted export
  synthfold export --cleanup ID [--json]     remove what an interrupted export wrote
  synthfold export-generator <run> --out DIR [--checkpoint best|last] [--json]
  synthfold interpolate <run> --from A --to B --out DIR [--steps N] [--path linear|spherical]
                              [--checkpoint best|last] [--json]   A, B: image paths under the dataset's folder, or class names
  synthfold map <run> --out FILE.csv|FILE.png [--method pca|umap] [--features latent|classifier]
                      [--generation ID] [--checkpoint best|last] [--json]
  synthfold doctor [--json]

<dataset> is a dataset id or name (see synthfold datasets); <run> is a run id.
Data lives in SYNTHFOLD_HOME when set, else the app's per-user data folder.`

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n')
    return command ? 0 : 2
  }
  const commands: Record<string, (core: Core, a: string[]) => Promise<number>> = {
    import: importCommand,
    datasets: datasetsCommand,
    train: trainCommand,
    resume: resumeCommand,
    sample: sampleCommand,
    generate: generateCommand,
    evaluate: evaluateCommand,
    audit: auditCommand,
    relabel: relabelCommand,
    exclude: excludeCommand,
    export: exportCommand,
    'export-generator': exportGeneratorCommand,
    doctor: doctorCommand,
    interpolate: interpolateCommand,
    map: mapCommand,
  }
  const run = commands[command]
  if (!run) {
    process.stderr.write(`Unknown command: ${safe(command)}\n${USAGE}\n`)
    return 2
  }
  const json = rest.includes('--json')
  let core: Core | undefined
  try {
    core = new Core({ shell: 'cli' })
    return await run(core, rest)
  } catch (err) {
    const e = err as Error & { code?: string }
    if (err instanceof UsageError) {
      process.stderr.write(`${safe(e.message)}\n${USAGE}\n`)
      return 2
    }
    if (json)
      process.stdout.write(
        JSON.stringify({ error: { code: e.code ?? 'internal', message: e.message } }) + '\n',
      )
    process.stderr.write(`Error: ${safe(e.message)}\n`)
    return 1
  } finally {
    await core?.close()
  }
}

// Started by the launcher on an older Node (bin/synthfold.js) with an IPC channel: when the launcher
// goes, however it went (a SIGKILL too), the channel closes and this process goes with it; its own
// training processes then see their channel close and stop.
if (process.channel) {
  process.on('disconnect', () => process.exit(process.exitCode ?? 129))
  process.channel.unref()
}

// `synthfold datasets | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})
process.exitCode = await main(process.argv.slice(2))
