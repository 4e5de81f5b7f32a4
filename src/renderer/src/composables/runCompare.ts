import { formatDuration } from '../../../shared/format'
import type { EpochMetrics, RunSummary } from '../../../shared/runs'
import { SETTING_LABELS, totalEpochs, type TrainSettings } from '../../../shared/train-settings'

export interface SettingRow {
  key: string
  label: string
  a: string
  b: string
  differs: boolean
}

const show = (v: unknown): string =>
  v === undefined ? '—' : typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)

/**
 * Every setting of two runs side by side, named as the training panel names it. A setting only
 * one run has (a family's own) shows as '—' for the other; a run without a family is a CVAE's.
 */
export function compareSettings(a: RunSummary, b: RunSummary): SettingRow[] {
  const withFamily = (s: TrainSettings) =>
    ({ ...s, model: s.model ?? 'cvae' }) as unknown as Record<string, unknown>
  const sa = withFamily(a.settings)
  const sb = withFamily(b.settings)
  const keys = [...new Set([...Object.keys(sa), ...Object.keys(sb)])]
  return keys.map((key) => ({
    key,
    label: SETTING_LABELS[key as keyof TrainSettings] ?? key,
    a: show(sa[key]),
    b: show(sb[key]),
    differs: sa[key] !== sb[key],
  }))
}

export interface RunSummaryRow {
  id: number
  finalValLoss: string
  bestValLoss: string
  epochs: string
  time: string
  classifierAccuracy: string
}

const loss = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : v.toFixed(1)

/**
 * A run in one row: its last epoch's and its best validation loss, epochs done, training time and
 * (when a generation measured it) its classifier's accuracy on held-out real images.
 */
export function runSummary(
  run: RunSummary,
  epochs: EpochMetrics[],
  classifierAccuracy: number | null,
): RunSummaryRow {
  const last = epochs.reduce<EpochMetrics | null>((l, e) => (!l || e.epoch > l.epoch ? e : l), null)
  return {
    id: run.id,
    finalValLoss: loss(last?.valLoss),
    bestValLoss: loss(run.bestValLoss),
    epochs: `${run.epochsDone} / ${totalEpochs(run.settings)}`,
    time: run.startedAt
      ? formatDuration(((run.finishedAt ?? Date.now()) - run.startedAt) / 1000)
      : '—',
    classifierAccuracy:
      classifierAccuracy === null ? '—' : `${(classifierAccuracy * 100).toFixed(1)}%`,
  }
}
