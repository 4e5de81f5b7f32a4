import { expect, test } from './fixtures'

/**
 * What a new user does first, with every default: import the shipped sample, train, generate.
 * The plan must fill, the page must say what was tried and rejected and why, and a remedy must
 * start a generation that shows its progress.
 */
test('the shipped sample with every default fills its plan; a remedy starts from the rejection table', async ({
  app,
}) => {
  // default training on 356 images, then two generations, on a machine others share
  test.setTimeout(900_000)
  await app.getByTestId('import-sample').click()
  await app.getByTestId('dataset-card').getByRole('button').click()
  await app.getByTestId('train-start').click()
  await expect(app.getByTestId('run-title')).toContainText('Run #1')
  await expect(app.getByTestId('run-status')).toHaveText('completed', { timeout: 600_000 })

  await app.getByTestId('generate-panel').getByTestId('gen-start').click()
  await expect(app.getByTestId('gen-title')).toContainText('Generation #1')
  // while it generates: tried apart from accepted, both rates, an ETA
  await expect(app.getByTestId('gen-rate')).toContainText(/accepted\/s of \d+ tried\/s · ETA/, {
    timeout: 180_000,
  })
  await app.screenshot({ path: 'test-results/screenshots/default-path-generating.png' })
  await expect(app.getByTestId('gen-status')).toHaveText('completed', { timeout: 180_000 })

  const [accepted, planned] = (await app.getByTestId('gen-accepted').innerText())
    .match(/(\d+) \/ (\d+) accepted/)!
    .slice(1)
    .map(Number)
  const tried = Number(/(\d+) tried/.exec(await app.getByTestId('gen-tried').innerText())![1])
  console.log(`default path: ${accepted} / ${planned} accepted, ${tried} tried`)
  expect(accepted / planned).toBeGreaterThanOrEqual(0.95)
  expect(tried).toBeGreaterThan(accepted)
  // the bar is accepted against planned
  const bar = Number(
    await app.getByTestId('gen-progress').getByRole('progressbar').getAttribute('aria-valuenow'),
  )
  expect(bar).toBe(Math.min(100, Math.round((100 * accepted) / planned)))

  // why samples were rejected, per class and filter
  const table = app.getByTestId('rejection-table')
  await expect(table).toBeVisible()
  const rows = table.getByTestId('rejection-row')
  expect(await rows.count()).toBeGreaterThan(0)
  await app.screenshot({
    path: 'test-results/screenshots/default-path-generated.png',
    fullPage: true,
  })

  // the class the class test rejected most from
  const lowConfidence = await rows.evaluateAll((els) =>
    els.map((e) => ({
      name: e.getAttribute('data-class')!,
      n: Number(
        e
          .querySelector('[data-testid="rejected-low-confidence"]')!
          .textContent!.trim()
          .split(/\s/)[0],
      ),
    })),
  )
  const cls = lowConfidence.sort((a, b) => b.n - a.n)[0].name
  const row = table.locator(`tr[data-testid="rejection-row"][data-class="${cls}"]`)
  /** When the plan filled: a person rejects three of the class's samples, and it is short. */
  const rejectThree = async (name: string): Promise<void> => {
    await app.getByTestId('filter-class').selectOption({ label: name })
    await app.getByTestId('filter-status').selectOption('accepted')
    const cells = app.getByTestId('sample')
    await cells.nth(0).click()
    await cells.nth(2).click({ modifiers: ['Shift'] })
    await app.keyboard.press('r')
    // its accepted count turns short in the table
    await expect(
      table.locator(`tr[data-testid="rejection-row"][data-class="${name}"] .warn-text`),
    ).toBeVisible()
  }
  const cooler = row.getByTestId('remedy-lower-temperature')
  if (!(await cooler.count())) await rejectThree(cls)
  await expect(cooler).toHaveText(/^Lower temperature to [\d.]+$/)
  const t = /to ([\d.]+)/.exec(await cooler.innerText())![1]
  await expect(row.getByTestId('remedy-relax-filter')).toContainText('Relax class test to')
  await expect(row.getByTestId('remedy-train-longer')).toContainText('Train longer (')
  await app.screenshot({
    path: 'test-results/screenshots/default-path-remedies.png',
    fullPage: true,
  })

  // one click starts it: a new generation for the class, whose progress shows in its row
  await cooler.click()
  const job = table.locator(`tr[data-testid="remedy-job"][data-class="${cls}"]`)
  await expect(job).toContainText('Generation #2')
  await expect(job).toContainText(new RegExp(`temperature ${t} \\(was [\\d.]+\\)`))
  await expect(job.getByTestId('remedy-job-status')).toHaveText('running')
  await expect(row.getByTestId('remedy-relax-filter')).toBeDisabled()
  await expect(job.getByTestId('remedy-job-progress')).toContainText(
    /independent classifiers|tried/,
  )
  await app.screenshot({
    path: 'test-results/screenshots/default-path-remedy-running.png',
    fullPage: true,
  })
  await expect(job.getByTestId('remedy-job-status')).toHaveText('completed', { timeout: 180_000 })
  await expect(job.getByTestId('remedy-job-progress')).toContainText(
    /\d+ \/ \d+ accepted · \d+ tried/,
  )

  // training longer starts a run, whose progress shows above the table
  const other = (
    await rows.evaluateAll((els) =>
      els
        .filter(
          (e) =>
            e.querySelector('td.main')?.getAttribute('data-testid') === 'rejected-low-confidence',
        )
        .map((e) => e.getAttribute('data-class')!),
    )
  ).find((name) => name !== cls)!
  const second = table.locator(`tr[data-testid="rejection-row"][data-class="${other}"]`)
  const train = second.getByTestId('remedy-train-longer')
  if (!(await train.count())) await rejectThree(other)
  await train.click()
  await expect(table.getByTestId('remedy-run')).toContainText(
    /Run #2, started to train longer: epoch \d+ \/ \d+/,
    { timeout: 60_000 },
  )
  await expect(train).toBeDisabled()
  await app.screenshot({
    path: 'test-results/screenshots/default-path-train-longer.png',
    fullPage: true,
  })

  // the remedy's own page: that class only, at the lower temperature
  await job.getByRole('link', { name: 'Generation #2' }).click()
  await expect(app.getByTestId('gen-title')).toContainText('Generation #2')
  await expect(app.locator('.page-head')).toContainText(`temperature ${t} ·`)
  const planRows = app.getByTestId('gen-table').locator('tbody tr')
  await expect(planRows).toHaveCount(1)
  await expect(planRows.first()).toHaveAttribute('data-class', cls)
})
