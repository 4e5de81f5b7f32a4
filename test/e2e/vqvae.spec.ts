import { expect, test } from './fixtures'

test('train a VQ-VAE from the training panel: its two stages, codebook chart, generate', async ({
  app,
}) => {
  test.setTimeout(420_000)
  await app.getByTestId('import-sample').click()
  await app.getByTestId('dataset-card').getByRole('button').click()

  const panel = app.getByTestId('train-panel')
  await panel.getByTestId('train-model').selectOption('vqvae')
  // when to pick it, in the panel
  await expect(panel.getByTestId('train-model-help')).toContainText('Sharper samples')
  await expect(panel.getByTestId('train-model-help')).toContainText('two stages')
  await panel.getByText('Fast', { exact: true }).click()
  await panel.getByRole('button', { name: 'Show advanced settings' }).click()
  // its own settings, with their defaults and limits
  const codebook = panel.getByRole('spinbutton', { name: 'Codebook size (codes) (8–1024)' })
  await expect(codebook).toHaveAttribute('placeholder', '64')
  await codebook.fill('4')
  await app.getByTestId('train-start').click()
  await expect
    .soft(panel.getByTestId('field-error'))
    .toHaveText('Codebook size (codes) must be at least 8')
  await codebook.fill('32')
  await panel.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('4')
  await panel.getByRole('spinbutton', { name: 'Prior epochs (stage 2)' }).fill('6')
  await panel.getByRole('spinbutton', { name: 'Batch size' }).fill('32')
  await expect(panel.locator('.preset.selected').getByTestId('preset-estimate')).toContainText(
    '4 + 6 prior epochs',
  )
  await panel.screenshot({ path: 'test-results/screenshots/train-vqvae.png' })
  await app.getByTestId('train-start').click()

  await expect(app.getByTestId('run-title')).toContainText('Run #1')
  await expect(app.getByTestId('run-family')).toContainText('VQ-VAE')
  await expect(app.getByTestId('run-stage')).toContainText('Stage 1 of 2', { timeout: 60_000 })
  // nothing to sample before the prior trains: no stand-in samples
  await expect(app.getByTestId('preview-samples-wait')).toBeVisible()
  await expect(app.getByTestId('generate-panel')).toHaveCount(0)
  await expect(app.getByTestId('run-stage')).toContainText('Stage 2 of 2', { timeout: 120_000 })
  await expect(app.getByTestId('run-status')).toHaveText('completed', { timeout: 180_000 })
  await expect(app.getByTestId('run-progress')).toContainText('10 / 10 epochs')

  // the codebook chart where a CVAE shows active units, and the prior's loss
  const codes = app.getByRole('img', { name: 'Codebook use (codes of 32)' })
  await expect(codes).toBeVisible()
  await expect(codes).toContainText('used codes')
  await expect(codes).toContainText('perplexity')
  await expect(app.getByRole('img', { name: 'Prior loss (stage 2) (nats per code)' })).toBeVisible()
  await expect(app.getByTestId('preview-samples')).toBeVisible()
  await expect
    .poll(() =>
      app.getByTestId('preview-samples').evaluate((i: HTMLImageElement) => i.naturalWidth),
    )
    .toBeGreaterThan(100)
  await app.screenshot({ path: 'test-results/screenshots/run-vqvae.png', fullPage: true })

  // generation from the prior, through the same filters
  const gen = app.getByTestId('generate-panel')
  await gen.getByTestId('gen-strategy').selectOption('minority')
  await gen.getByTestId('gen-max-ratio').fill('1')
  await gen.getByTestId('gen-start').click()
  await expect(app.getByTestId('gen-status')).toHaveText('completed', { timeout: 180_000 })
  await expect(app.getByTestId('gen-table')).toBeVisible()
})
