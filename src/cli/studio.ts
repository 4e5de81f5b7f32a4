import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, extname, resolve } from 'node:path'
import sharp from 'sharp'
import type { Core } from '../core/core'
import { classColour, type StudioEvent, type StudioMap } from '../shared/studio'
import { call, numberFlag, parse, UsageError } from './args'
import { onInterrupt } from './follow'
import { blocks } from './progress-bar'
import { safe } from './terminal'

const runIdOf = (s: string | undefined): number => {
  if (!s || !/^\d+$/.test(s)) throw new UsageError('the run id (a number) comes first')
  return Number(s)
}

/**
 * synthfold interpolate <run> --from A --to B [--steps N] [--path linear|spherical] --out DIR
 * [--checkpoint best|last] [--json]: a strip of decoded images between two images (paths relative
 * to the dataset's folder) or two classes (a run's class name), written as PNGs.
 */
export async function interpolateCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(
    argv,
    ['from', 'to', 'steps', 'path', 'out', 'checkpoint'],
    ['json'],
  )
  const runId = runIdOf(positional[0])
  const from = flags.get('from')
  const to = flags.get('to')
  const out = flags.get('out')
  if (typeof from !== 'string' || typeof to !== 'string' || typeof out !== 'string')
    throw new UsageError('interpolate needs --from, --to and --out')
  const run = (await call(core, 'runs.get', { runId })).run
  // a run's class name is a class; anything else is an image path under the dataset's folder
  const end = (v: string) => (run.classNames.includes(v) ? { class: v } : { path: v })
  const outDir = resolve(out)
  const r = await call(core, 'studio.interpolate', {
    runId,
    from: end(from),
    to: end(to),
    steps: numberFlag(flags, 'steps'),
    path: flags.get('path') as 'linear' | undefined,
    checkpoint: flags.get('checkpoint') as 'best' | undefined,
    outDir,
  })
  const [ca, cb] = r.classes
  if (flags.has('json'))
    process.stdout.write(
      JSON.stringify({
        runId,
        from: { ...end(from), class: run.classNames[ca] },
        to: { ...end(to), class: run.classNames[cb] },
        steps: r.files.length,
        path: flags.get('path') ?? 'linear',
        t: r.t,
        files: r.files,
      }) + '\n',
    )
  else
    process.stdout.write(
      `Wrote ${r.files.length} images from ${safe(from)} (${safe(run.classNames[ca])}) to ${safe(to)} (${safe(run.classNames[cb])}) into ${safe(outDir)}\n`,
    )
  return 0
}

/**
 * synthfold map <run> [--method pca|umap] [--features latent|classifier] [--generation ID]
 * [--checkpoint best|last] --out FILE.csv|FILE.png [--json]: the run's 2-D map of its dataset,
 * as a table (kind, id, path, class, x, y) or a scatter picture coloured by class.
 */
export async function mapCommand(core: Core, argv: string[]): Promise<number> {
  const { positional, flags } = parse(
    argv,
    ['method', 'features', 'generation', 'checkpoint', 'out'],
    ['json'],
  )
  const runId = runIdOf(positional[0])
  const out = flags.get('out')
  if (typeof out !== 'string') throw new UsageError('map needs --out FILE.csv or FILE.png')
  const format = extname(out).toLowerCase()
  if (format !== '.csv' && format !== '.png')
    throw new UsageError('--out must name a .csv or a .png file')
  const file = resolve(out)
  if (existsSync(file))
    throw Object.assign(new Error(`${file} already exists; Synthfold never overwrites files.`), {
      code: 'conflict',
    })
  const json = flags.has('json')
  const args = {
    runId,
    method: flags.get('method') as 'pca' | undefined,
    features: flags.get('features') as 'latent' | undefined,
    checkpoint: flags.get('checkpoint') as 'best' | undefined,
    generationId: numberFlag(flags, 'generation') ?? null,
  }
  const map = await waitForMap(core, args, process.stderr.isTTY && !json)
  mkdirSync(dirname(file), { recursive: true })
  if (format === '.csv') writeFileSync(file, await csvOf(core, map), { flag: 'wx' })
  else
    await sharp(scatter(map, 1024), { raw: { width: 1024, height: 1024, channels: 3 } })
      .png()
      .toFile(file)
  const synthetic = map.synthetic?.ids.length ?? 0
  if (json)
    process.stdout.write(
      JSON.stringify({
        runId,
        method: map.method,
        features: map.features,
        checkpoint: map.checkpoint,
        points: map.real.ids.length,
        synthetic,
        classes: map.classNames,
        out: file,
        format: format.slice(1),
        seconds: map.seconds,
      }) + '\n',
    )
  else
    process.stdout.write(
      `Mapped ${map.real.ids.length} images${synthetic ? ` and ${synthetic} samples` : ''} of run ${runId} (${map.method.toUpperCase()} of ${map.features === 'latent' ? 'latent means' : 'classifier features'}) to ${safe(file)}\n`,
    )
  return 0
}

/** The map, from the cache or computed with a progress line; Ctrl-C cancels it. */
async function waitForMap(
  core: Core,
  args: Record<string, unknown>,
  tty: boolean,
): Promise<StudioMap> {
  let jobId = ''
  const events: StudioEvent[] = []
  let onEvent: ((e: StudioEvent) => void) | null = null
  const off = core.on('studio', (e) => (onEvent ? onEvent(e) : events.push(e)))
  let undo = (): void => undefined
  try {
    const first = await call(core, 'studio.map', { ...args, wait: false })
    if (first.status === 'ready') return first.map
    jobId = first.jobId
    undo = onInterrupt(() => {
      process.stderr.write('\nCancelling the map…\n')
      void core.call('studio.cancel', { jobId })
    })
    const end = await new Promise<StudioEvent>((resolveEnd) => {
      onEvent = (e) => {
        if (e.jobId !== jobId) return
        if (e.type === 'progress') {
          if (tty)
            process.stderr.write(
              `\r\x1b[2K${e.phase === 'encoding' ? 'Encoding images' : e.phase === 'projecting' ? 'Projecting' : e.phase === 'placing' ? 'Placing samples' : 'Starting'} ${blocks(e.done / Math.max(1, e.total))} ${e.done}/${e.total}`,
            )
        } else resolveEnd(e)
      }
      events.splice(0).forEach((e) => onEvent!(e))
    })
    if (tty) process.stderr.write('\r\x1b[2K')
    if (end.type === 'cancelled')
      throw Object.assign(new Error('The map was cancelled.'), { code: 'cancelled' })
    if (end.type === 'failed') throw Object.assign(new Error(end.error.message), end.error)
    const again = await call(core, 'studio.map', { ...args, wait: true })
    if (again.status !== 'ready') throw new Error('The map was not stored.')
    return again.map
  } finally {
    off()
    undo()
  }
}

const csvField = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)

/** kind,id,path,class,x,y: real images by their path under the dataset's folder, samples by file. */
async function csvOf(core: Core, map: StudioMap): Promise<string> {
  const run = (await call(core, 'runs.get', { runId: map.runId })).run
  const paths = new Map<number, string>()
  for (let offset = 0; ; offset += 2000) {
    const page = await call(core, 'datasets.images', {
      datasetId: run.datasetId,
      offset,
      limit: 2000,
    })
    for (const im of page.items) paths.set(im.id, im.relPath)
    if (offset + page.items.length >= page.total || !page.items.length) break
  }
  const lines = ['kind,id,path,class,x,y']
  map.real.ids.forEach((id, i) =>
    lines.push(
      [
        'real',
        String(id),
        csvField(paths.get(id) ?? ''),
        csvField(map.classNames[map.real.classIndex[i]]),
        String(map.real.x[i]),
        String(map.real.y[i]),
      ].join(','),
    ),
  )
  if (map.synthetic) {
    const s = map.synthetic
    s.ids.forEach((id, i) =>
      lines.push(
        [
          'synthetic',
          String(id),
          '',
          csvField(map.classNames[s.classIndex[i]]),
          String(s.x[i]),
          String(s.y[i]),
        ].join(','),
      ),
    )
  }
  return lines.join('\n') + '\n'
}

/** An RGB scatter picture of the map: real images as dots by class, samples as hollow squares. */
function scatter(map: StudioMap, side: number): Buffer {
  const px = Buffer.alloc(side * side * 3, 255)
  const xs = [...map.real.x, ...(map.synthetic?.x ?? [])]
  const ys = [...map.real.y, ...(map.synthetic?.y ?? [])]
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)]
  const margin = 24
  const scale = (side - 2 * margin) / Math.max(x1 - x0, y1 - y0, 1e-9)
  const put = (x: number, y: number, rgb: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= side || y >= side) return
    const o = (y * side + x) * 3
    px[o] = rgb[0]
    px[o + 1] = rgb[1]
    px[o + 2] = rgb[2]
  }
  const at = (x: number, y: number): [number, number] => [
    Math.round(margin + (x - x0) * scale),
    Math.round(side - margin - (y - y0) * scale),
  ]
  map.real.x.forEach((x, i) => {
    const [cx, cy] = at(x, map.real.y[i])
    const rgb = classColour(map.real.classIndex[i])
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++) if (dx * dx + dy * dy <= 5) put(cx + dx, cy + dy, rgb)
  })
  map.synthetic?.x.forEach((x, i) => {
    const [cx, cy] = at(x, map.synthetic!.y[i])
    const rgb = classColour(map.synthetic!.classIndex[i])
    for (let d = -3; d <= 3; d++) {
      put(cx + d, cy - 3, rgb)
      put(cx + d, cy + 3, rgb)
      put(cx - 3, cy + d, rgb)
      put(cx + 3, cy + d, rgb)
    }
  })
  return px
}
