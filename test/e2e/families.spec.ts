import { expect, test } from './fixtures'

test('train a WAE from the training panel: its settings, its MMD chart, generation', async ({
  app,
}) => {
  test.setTimeout(240_000)
  await app.getByTestId('import-sample').click()
  await app.getByTestId('dataset-card').getByRole('button').click()
  const panel = app.getByTestId('train-panel')
  // the family is picked above the presets' details, each with when to pick it
  await expect(panel.getByTestId('train-model-help')).toContainText('The default')
  await panel.getByTestId('train-model').selectOption('wae')
  await expect(panel.getByTestId('train-model-help')).toContainText('MMD term instead of')
  await expect(panel.getByTestId('train-why')).toContainText(
    'Wasserstein auto-encoder: MMD weight 100',
  )
  await panel.getByRole('button', { name: 'Show advanced settings' }).click()
  // the WAE's own settings, and none of the KL's
  await expect(panel.getByRole('spinbutton', { name: 'MMD weight (lambda)' })).toHaveAttribute(
    'placeholder',
    '100',
  )
  await expect(panel.getByRole('combobox', { name: 'WAE encoder' })).toBeVisible()
  await expect(panel.getByRole('spinbutton', { name: 'Beta (KL weight)' })).toHaveCount(0)
  await panel.getByRole('spinbutton', { name: 'MMD weight (lambda)' }).fill('20')
  await panel.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('6')
  await panel.getByRole('spinbutton', { name: 'Batch size' }).fill('32')
  await panel.screenshot({ path: 'test-results/screenshots/train-wae.png' })
  await app.getByTestId('train-start').click()

  await expect(app.getByTestId('run-title')).toContainText('Run #1')
  await expect(app.getByTestId('run-status')).toHaveText('completed', { timeout: 150_000 })
  // the divergence chart is the MMD's, where a CVAE run shows its KL
  await expect(app.getByRole('img', { name: /^MMD to the prior/ })).toHaveCount(1)
  await expect(app.getByRole('img', { name: /^KL/ })).toHaveCount(0)
  await expect(app.getByTestId('preview-samples')).toBeVisible()
  await app.screenshot({ path: 'test-results/screenshots/run-wae.png', fullPage: true })

  // generation works from a WAE run as from a CVAE one
  const gen = app.getByTestId('generate-panel')
  await gen.getByTestId('gen-start').click()
  await expect(app.getByTestId('gen-title')).toContainText('Generation #1')
  await expect(app.getByTestId('gen-status')).toHaveText('completed', { timeout: 150_000 })
  const accepted = Number(/(\d+) \//.exec(await app.getByTestId('gen-accepted').innerText())![1])
  expect(accepted).toBeGreaterThan(0)
})
