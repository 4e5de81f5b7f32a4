/** Learning rate for an epoch: constant, cosine decay to 5%, or halving every third of the run. */
export function learningRateAt(
  schedule: 'constant' | 'cosine' | 'step',
  base: number,
  epoch: number,
  epochs: number,
): number {
  if (schedule === 'constant' || epochs <= 1) return base
  const t = Math.min(1, epoch / (epochs - 1))
  if (schedule === 'cosine') return base * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)))
  return base * 0.5 ** Math.floor(t * 3 - 1e-9)
}

/** KL weight multiplier during warm-up: rises linearly from 0 to 1 over `warmupEpochs`. */
export const klWarmup = (epochProgress: number, warmupEpochs: number): number =>
  warmupEpochs <= 0 ? 1 : Math.min(1, epochProgress / warmupEpochs)
