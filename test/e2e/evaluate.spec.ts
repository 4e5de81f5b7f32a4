import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'
import { ARM_NAMES } from '../../src/shared/evaluation'

/**
 * Issue 19: "Does it help?" on the generation page. A short run on the shipped sample, a loose
 * generation, then the downstream check with one seed: every arm on the card, the verdict, the
 * held-out counts, per-class recall; the card is there again after a reload, and the export's
 * report.html carries the same check and its loss weight.
 */
test('evaluate a generation: every arm, the verdict, and the same in the export', async ({
  app,
}) => {
  test.setTimeout(480_000)
  await app.getByTestId('import-sample').click()
  await app.getByTestId('dataset-card').getByRole('button').click()
  const panel = app.getByTestId('train-panel')
  await panel.getByText('Fast', { exact: true }).click()
  await panel.getByRole('button', { name: 'Show advanced settings' }).click()
  await panel.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('3')
  await panel.getByRole('spinbutton', { name: 'Batch size' }).fill('32')
  await app.getByTestId('train-start').click()
  await expect(app.getByTestId('run-status')).toHaveText('completed', { timeout: 150_000 })

  // a young model: loose filters so every class gets accepted samples
  const gen = app.getByTestId('generate-panel')
  await gen.getByTestId('gen-max-ratio').fill('0.5')
  await gen.getByTestId('gen-confidence-mode').selectOption('absolute')
  await gen.getByTestId('gen-min-confidence').fill('0.01')
  await gen.getByTestId('gen-near-copy').fill('0')
  await gen.getByTestId('gen-duplicate').fill('0')
  await gen.getByTestId('gen-start').click()
  await expect(app.getByTestId('gen-status')).toHaveText('completed', { timeout: 90_000 })

  const card = app.getByTestId('eval-card')
  await expect(card.getByTestId('eval-intro')).toContainText('held-out real images')
  await expect(card.getByTestId('eval-seeds')).toHaveValue('3')

  // started and cancelled: the card says so, and a new check can start
  await card.getByTestId('eval-start').click()
  await expect(card.getByTestId('eval-progress')).toContainText('/ 21 classifiers trained')
  await card.getByTestId('eval-cancel').click()
  await expect(card.getByTestId('eval-cancelled')).toBeVisible({ timeout: 60_000 })

  await card.getByTestId('eval-seeds').selectOption('1')
  await card.getByTestId('eval-start').click()
  const progress = card.getByTestId('eval-progress')
  await expect(progress).toContainText('/ 7 classifiers trained')
  await expect(progress.getByRole('progressbar')).toBeVisible()
  await expect(progress).toContainText('ETA')
  await card.screenshot({ path: 'test-results/screenshots/evaluation-running.png' })
  await expect(card.getByTestId('eval-verdict')).toContainText(/synthetic images/i, {
    timeout: 300_000,
  })
  await expect(card.getByTestId('eval-progress')).toHaveCount(0)

  const expectFullCard = async (): Promise<string> => {
    const bars = card.getByTestId('eval-arm')
    await expect(bars).toHaveCount(ARM_NAMES.length)
    expect(await bars.evaluateAll((els) => els.map((e) => e.getAttribute('data-arm')))).toEqual([
      ...ARM_NAMES,
    ])
    // free arms and synthetic arms are drawn apart, and exactly one is the best
    expect(await card.locator('[data-testid="eval-arm"].synthetic').count()).toBe(4)
    await expect(card.locator('[data-testid="eval-arm"].best')).toHaveCount(1)
    await expect(card.getByTestId('eval-held-out')).toContainText(
      'Ankle_boot is too small to hold any out',
    )
    // per-class recall for the 9 classes that hold images out
    await expect(card.getByTestId('eval-recall').locator('tbody tr')).toHaveCount(9)
    await expect(card.getByTestId('eval-leak')).toHaveCount(0)
    return (await card.locator('[data-testid="eval-arm"].best').getAttribute('data-arm'))!
  }
  const best = await expectFullCard()
  const heldOut = await card.getByTestId('eval-held-out').textContent()
  expect(Number(/Scored on (\d+) held-out/.exec(heldOut!)![1])).toBeGreaterThan(40)
  await card.scrollIntoViewIfNeeded()
  await card.screenshot({ path: 'test-results/screenshots/evaluation-card.png' })

  // the newest check is shown again when the page opens
  await app.reload()
  await expect(card.getByTestId('eval-verdict')).toContainText(/synthetic images/i)
  expect(await expectFullCard()).toBe(best)

  // the export's report carries the check; its metadata the suggested loss weight
  const outRoot = mkdtempSync(join(tmpdir(), 'synthfold-e2e-evaluate-'))
  try {
    await app.getByText('← Run #1').click()
    await app.getByText('← Dataset').click()
    const exp = app.getByTestId('export-panel')
    const out = join(outRoot, 'export')
    await exp.getByTestId('export-out').fill(out)
    await exp.getByTestId('export-start').click()
    await expect(app.getByTestId('export-status')).toHaveText('completed', { timeout: 60_000 })
    const report = app.frameLocator('[data-testid="export-report"]')
    await expect(report.getByRole('heading', { name: 'Does it help?' })).toBeVisible()
    await expect(report.getByTestId('report-evaluation').locator('tbody tr')).toHaveCount(7)
    await expect(report.getByTestId('report-verdict')).toContainText(/synthetic images/i)
    const csv = readFileSync(join(out, 'metadata.csv'), 'utf8').trim().split('\n')
    expect(csv[0].split(',').at(-1)).toBe('loss_weight')
    const weights = new Set(
      csv
        .slice(1)
        .map((l) => `${l.includes(',true,') ? 'synthetic' : 'real'}:${l.split(',').at(-1)}`),
    )
    const w = best === 'synthetic-half-weight' ? '0.5' : '1'
    expect([...weights].sort()).toEqual(['real:1', `synthetic:${w}`])
  } finally {
    rmSync(outRoot, { recursive: true, force: true })
  }
})
