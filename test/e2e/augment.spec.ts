import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'

test('classic augmentation for a class: chosen in the plan, marked in review, in the export', async ({
  app,
}) => {
  test.setTimeout(300_000)
  await app.getByTestId('import-sample').click()
  await app.getByTestId('dataset-card').getByRole('button').click()
  const panel = app.getByTestId('train-panel')
  await panel.getByText('Fast', { exact: true }).click()
  await panel.getByRole('button', { name: 'Show advanced settings' }).click()
  // one epoch: a generator that cannot draw a boot yet, which is when augmentation helps
  await panel.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1')
  await app.getByTestId('train-start').click()
  await expect(app.getByTestId('run-status')).toHaveText('completed', { timeout: 120_000 })

  const gen = app.getByTestId('generate-panel')
  await gen.getByTestId('gen-strategy').selectOption('minority')
  await gen.getByTestId('gen-max-ratio').fill('2')
  const plan = gen.getByTestId('gen-plan')
  const boot = plan.locator('tr', { hasText: 'Ankle_boot' })
  await boot
    .getByRole('combobox', { name: 'How to make samples of Ankle_boot' })
    .selectOption('augment')
  // mirroring a boot keeps it a boot: on by default
  await expect(boot.getByTestId('gen-mirror')).toBeChecked()
  await expect(gen.getByTestId('gen-augment-note')).toContainText(
    'Ankle_boot: classic augmentation',
  )
  await gen.screenshot({ path: 'test-results/screenshots/generate-augment.png' })
  await gen.getByTestId('gen-start').click()

  await expect(app.getByTestId('gen-status')).toHaveText('completed', { timeout: 150_000 })
  const table = app.getByTestId('gen-table')
  await expect(table.getByTestId('class-augmented-Ankle_boot')).toBeVisible()
  await expect(table.locator('tr[data-class="Ankle_boot"]')).toContainText('16')
  await app.getByTestId('filter-status').selectOption('accepted')
  await expect(app.getByTestId('view-count')).toHaveText(/^16 samples/)
  await expect(app.getByTestId('cell-augmented')).toHaveCount(16)
  await app.getByTestId('sample').first().click()
  const details = app.getByTestId('sample-panel')
  await expect(details.getByTestId('panel-source')).toContainText(
    /classic augmentation of real image #\d+: .*rotated/,
  )
  // beside it, the real image it was made from
  await expect(details).toContainText('Made from')
  await expect
    .poll(() =>
      details.getByAltText('Source real image').evaluate((i: HTMLImageElement) => i.naturalWidth),
    )
    .toBe(28)
  await app.screenshot({ path: 'test-results/screenshots/review-augment.png' })

  const outRoot = mkdtempSync(join(tmpdir(), 'synthfold-e2e-augment-'))
  try {
    await app.getByText('← Run #1').click()
    await app.getByText('← Dataset').click()
    const exp = app.getByTestId('export-panel')
    await expect(exp.getByTestId('export-preview')).toContainText('Ankle_boot')
    const out = join(outRoot, 'export')
    await exp.getByTestId('export-out').fill(out)
    await exp.getByTestId('export-class-weights').check()
    await exp.getByTestId('export-start').click()
    await expect(app.getByTestId('export-status')).toHaveText('completed', { timeout: 60_000 })
    const csv = readFileSync(join(out, 'metadata.csv'), 'utf8')
    expect(csv).toMatch(/^Ankle_boot\/augmented-g1-s\d+\.png,Ankle_boot,,,true,.*,augment,\//m)
    const weights = JSON.parse(readFileSync(join(out, 'class_weights.json'), 'utf8')) as {
      weights: Record<string, number>
    }
    // 8 real + 16 augmented boots, 80 T-shirts: the boots still weigh more
    expect(weights.weights.Ankle_boot).toBeGreaterThan(weights.weights['T-shirt_top'])
  } finally {
    rmSync(outRoot, { recursive: true, force: true })
  }
})
