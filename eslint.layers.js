// Which part of src/ may import which: each entry lists what a folder may import besides itself
// (and npm packages). Everything else is refused by import-x/no-restricted-paths, so a new import
// against the layering fails `npm run lint`. From the bottom: shared and util; db and accel;
// datasets, models, training, export, generation, evaluate, studio; jobs; handlers; core.ts; then the shells
// (the GPU trainer page imports the browser-safe trainers directly: see BROWSER_SAFE in eslint.config.js).
// ARCHITECTURE.md draws the same picture.

/** The parts, as folders (or single files) under the project root. */
const PARTS = {
  shared: 'src/shared',
  util: 'src/core/util',
  db: 'src/core/db',
  accel: 'src/core/accel',
  datasets: 'src/core/datasets',
  models: 'src/core/models',
  training: 'src/core/training',
  export: 'src/core/export',
  augment: 'src/core/augment',
  generation: 'src/core/generation',
  evaluate: 'src/core/evaluate',
  studio: 'src/core/studio',
  jobs: 'src/core/jobs',
  handlers: 'src/core/handlers',
  media: 'src/core/media.ts',
  core: 'src/core/core.ts',
  web: 'src/web',
  cli: 'src/cli',
  main: 'src/main',
  preload: 'src/preload',
  renderer: 'src/renderer/src',
  /** The GPU trainer page: the core's trainers in a browser renderer (a second renderer entry). */
  gpu: 'src/renderer/gpu-trainer',
}

/**
 * What each part may import. `accel` appears through its facade only (ops.ts; backend.ts for the
 * jobs that choose a backend): a model or a trainer never names a kernel file.
 */
const ALLOWED = {
  shared: [],
  util: ['shared'],
  db: ['shared', 'util'],
  accel: ['shared', 'util'],
  datasets: ['shared', 'util', 'db'],
  models: ['shared', 'util', 'accel:ops'],
  training: ['shared', 'util', 'accel:ops', 'models', 'datasets'],
  export: ['shared', 'util', 'datasets'],
  augment: ['shared', 'util'],
  generation: [
    'shared',
    'util',
    'accel:ops',
    'models',
    'training',
    'datasets',
    'export',
    'augment',
  ],
  evaluate: ['shared', 'util', 'accel:ops', 'models', 'training', 'generation'],
  studio: ['shared', 'util', 'accel:ops', 'models', 'training', 'generation'],
  jobs: [
    'shared',
    'util',
    'db',
    'accel:ops,backend,gpu-choice',
    'datasets',
    'models',
    'training',
    'export',
    'augment',
    'generation',
    'evaluate',
    'studio',
  ],
  handlers: ['shared', 'util', 'db', 'datasets', 'jobs'],
  media: ['shared', 'util', 'db', 'datasets'],
  core: ['shared', 'util', 'db', 'datasets', 'jobs', 'handlers', 'media'],
  web: ['shared', 'core'],
  cli: ['shared', 'core'],
  main: ['shared', 'core', 'jobs'],
  preload: ['shared'],
  renderer: ['shared'],
  gpu: ['shared', 'util', 'models', 'training'],
}

/** The zones for import-x/no-restricted-paths: for each part, every part it may not import. */
export function layerZones() {
  const zones = []
  for (const [part, allowed] of Object.entries(ALLOWED)) {
    const facades = new Map(
      allowed
        .filter((a) => a.includes(':'))
        .map((a) => {
          const [name, files] = a.split(':')
          return [name, files.split(',').map((f) => `./${f}.ts`)]
        }),
    )
    const plain = new Set(allowed.filter((a) => !a.includes(':')))
    for (const other of Object.keys(PARTS)) {
      if (other === part || plain.has(other)) continue
      zones.push({
        target: `./${PARTS[part]}`,
        from: `./${PARTS[other]}`,
        ...(facades.has(other) ? { except: facades.get(other) } : {}),
        message: `${part} may import only ${allowed.join(', ') || 'itself'} (eslint.layers.js).`,
      })
    }
  }
  return zones
}
