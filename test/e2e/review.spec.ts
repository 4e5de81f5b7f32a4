import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect, test } from './fixtures'

test('plan, generate, filter, review with the keyboard; decisions survive a reload', async ({
  app,
  host,
}) => {
  test.setTimeout(240_000)
  await app.getByTestId('import-sample').click()
  await app.getByTestId('dataset-card').getByRole('button').click()
  const panel = app.getByTestId('train-panel')
  await panel.getByText('Fast', { exact: true }).click()
  await panel.getByRole('button', { name: 'Show advanced settings' }).click()
  await panel.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('25')
  await panel.getByRole('spinbutton', { name: 'Batch size' }).fill('32')
  await app.getByTestId('train-start').click()
  await expect(app.getByTestId('run-status')).toHaveText('completed', { timeout: 150_000 })

  // the generator itself, as a TensorFlow.js model
  const genOut = mkdtempSync(join(tmpdir(), 'synthfold-e2e-generator-'))
  try {
    await app.getByRole('button', { name: 'Export generator…' }).click()
    await app.getByTestId('generator-out').fill(join(genOut, 'decoder'))
    await app.getByRole('button', { name: 'Export', exact: true }).click()
    await expect(app.getByTestId('generator-done')).toContainText('Wrote 4 files')
    const info = JSON.parse(
      readFileSync(join(genOut, 'decoder', 'synthfold-generator.json'), 'utf8'),
    ) as { classNames: string[] }
    expect(info.classNames).toHaveLength(10)
  } finally {
    rmSync(genOut, { recursive: true, force: true })
  }

  // the plan, before anything is generated: not-majority, capped at 2 synthetic per real image
  const gen = app.getByTestId('generate-panel')
  await gen.getByTestId('gen-max-ratio').fill('2')
  const plan = gen.getByTestId('gen-plan')
  const boot = plan.locator('tr', { hasText: 'Ankle_boot' })
  await expect(boot.getByTestId('gen-plan-generate')).toContainText('16')
  await expect(boot).toContainText('capped')
  await expect(plan.locator('tr', { hasText: 'T-shirt_top' })).toContainText('80')
  // a custom target below the real count is refused before generating
  await gen.getByTestId('gen-strategy').selectOption('targets')
  await plan.getByRole('spinbutton', { name: 'Target total for Bag' }).fill('3')
  await expect(gen.getByRole('alert')).toContainText('below its 12 real images')
  await expect(gen.getByTestId('gen-start')).toBeDisabled()
  await gen.getByTestId('gen-strategy').selectOption('not-majority')
  // a young model on 370 images: a loose confidence bar so most classes fill up
  await gen.getByTestId('gen-confidence-mode').selectOption('absolute')
  await gen.getByTestId('gen-min-confidence').fill('0.05')
  await gen.getByTestId('gen-duplicate').fill('0.25')
  await gen.screenshot({ path: 'test-results/screenshots/generate-panel.png' })
  await gen.getByTestId('gen-start').click()

  await expect(app.getByTestId('gen-title')).toContainText('Generation #1')
  await expect(app.getByTestId('gen-status')).toHaveText('completed', { timeout: 60_000 })
  const table = app.getByTestId('gen-table')
  await expect(table.locator('tr[data-class="Ankle_boot"]')).toContainText('16')
  // the class test per class: the bar asked for, and how well the classifiers know the class
  await expect(table.getByTestId('class-test-Bag')).toContainText('≥ 0.05')
  await expect(table.getByTestId('class-test-Bag')).toContainText(/\d+% of 9 held out/)

  // filter to one class
  await app.getByTestId('filter-class').selectOption({ label: 'Bag' })
  await app.getByTestId('filter-status').selectOption('accepted')
  await expect(app.getByTestId('view-count')).toHaveText(/^24 samples/)
  const cells = app.getByTestId('sample')
  await expect(cells.first()).toBeVisible()
  const idOf = async (i: number) => (await cells.nth(i).getAttribute('data-id'))!
  const [first, second, third] = [await idOf(0), await idOf(1), await idOf(2)]

  // R rejects the focused sample and moves on; Ctrl+Z undoes; A accepts
  await cells.nth(0).click()
  await expect(app.getByTestId('sample-panel')).toContainText('Class confidence')
  await app.keyboard.press('r')
  await expect(app.locator(`[data-id="${first}"]`)).toHaveAttribute('data-status', 'rejected')
  await app.keyboard.press('r')
  await expect(app.locator(`[data-id="${second}"]`)).toHaveAttribute('data-status', 'rejected')
  await app.keyboard.press('Control+z')
  await expect(app.locator(`[data-id="${second}"]`)).toHaveAttribute('data-status', 'accepted')
  // arrows move, Space zooms, Escape closes
  await app.keyboard.press('ArrowRight')
  await app.keyboard.press('Space')
  await expect(app.getByTestId('zoom')).toBeVisible()
  await app.keyboard.press('Escape')
  await expect(app.getByTestId('zoom')).toHaveCount(0)
  // shift-click selects a range; R rejects all of it
  await cells.nth(2).click()
  await cells.nth(4).click({ modifiers: ['Shift'] })
  await expect(app.getByTestId('view-count')).toContainText('3 selected')
  await app.keyboard.press('r')
  for (const i of [2, 3, 4]) await expect(cells.nth(i)).toHaveAttribute('data-status', 'rejected')
  const rejected = [first, third, await idOf(3), await idOf(4)]
  await expect(table.locator('tr[data-class="Bag"]')).toContainText('20')
  await app.screenshot({ path: 'test-results/screenshots/review.png', fullPage: true })

  // reload: every decision is still there
  await app.reload()
  await expect(app.getByTestId('gen-status')).toHaveText('completed')
  await app.getByTestId('filter-class').selectOption({ label: 'Bag' })
  await app.getByTestId('filter-status').selectOption('reviewed')
  // (the undone decision is not counted as reviewed: undo restores the sample as it was)
  await expect(app.getByTestId('view-count')).toHaveText(/^4 samples/)
  for (const id of rejected)
    await expect(app.locator(`[data-id="${id}"]`)).toHaveAttribute('data-status', 'rejected')
  await app.getByTestId('filter-status').selectOption('all')
  await expect(app.locator(`[data-id="${second}"]`)).toHaveAttribute('data-status', 'accepted')

  // refill the class back up to its plan
  await table.getByTestId('refill-Bag').click()
  // the status can still read "completed" just after the click, before the refill starts (which
  // trains the class test's classifiers first): wait for the count, then for the end
  await expect(table.locator('tr[data-class="Bag"] td').nth(3)).toHaveText('24', {
    timeout: 120_000,
  })
  await expect(app.getByTestId('gen-status')).toHaveText('completed', { timeout: 60_000 })

  // every cell of "All classes" names its class and, sorted by a score, shows it
  await app.getByTestId('filter-class').selectOption({ label: 'All classes' })
  await app.getByTestId('filter-status').selectOption('all')
  await app.getByTestId('sort').selectOption('confidence:desc')
  await expect(cells.first().getByTestId('cell-class')).not.toBeEmpty()
  const scores = await app
    .getByTestId('cell-score')
    .evaluateAll((els) => els.slice(0, 12).map((e) => Number(e.textContent!.replace('%', ''))))
  expect(scores.length).toBe(12)
  expect([...scores].sort((a, b) => b - a)).toEqual(scores)

  // accepting past the plan asks first: accept all, only up to the plan, or cancel
  await app.getByTestId('filter-class').selectOption({ label: 'Bag' })
  await app.getByTestId('filter-status').selectOption('accepted')
  await expect(cells.first().getByTestId('cell-class')).toHaveCount(0)
  const [b0, b1] = [await idOf(0), await idOf(1)]
  await cells.nth(0).click()
  await app.keyboard.press('r')
  await expect(app.locator(`[data-id="${b0}"]`)).toHaveAttribute('data-status', 'rejected')
  await app.keyboard.press('r')
  await expect(app.locator(`[data-id="${b1}"]`)).toHaveAttribute('data-status', 'rejected')
  await expect(table.locator('tr[data-class="Bag"] td').nth(3)).toHaveText('22')
  const bagRejected = async () =>
    Number(await table.locator('tr[data-class="Bag"] td').nth(4).textContent())
  const many = String(await bagRejected())
  await app.getByTestId('filter-status').selectOption('rejected')
  await expect(app.getByTestId('view-count')).toHaveText(new RegExp(`^${many} samples`))
  await app.getByTestId('select-all').click()
  await expect(app.getByTestId('sample-panel')).toContainText(`${many} selected`)
  await expect(app.getByTestId('sample-panel')).not.toContainText('Click a sample')
  await app.getByTestId('accept').click()
  const dialog = app.getByTestId('over-plan-dialog')
  await expect(dialog).toContainText(`Accept all ${many}`)
  await expect(dialog).toContainText(`Bag goes to ${22 + Number(many)} / 24 planned`)
  await app.screenshot({ path: 'test-results/screenshots/review-over-plan.png', fullPage: true })
  await dialog.getByTestId('over-plan-cancel').click()
  await expect(dialog).toHaveCount(0)
  await expect(table.locator('tr[data-class="Bag"] td').nth(3)).toHaveText('22')
  await app.getByTestId('accept').click()
  await dialog.getByTestId('over-plan-plan').click()
  await expect(table.locator('tr[data-class="Bag"] td').nth(3)).toHaveText('24')
  await expect(app.getByTestId('gen-accepted')).not.toContainText('over plan')
  // the rest: accept all of them, over the plan, and the header says by how much
  const rest = await bagRejected()
  await app.getByTestId('filter-status').selectOption('all')
  await app.getByTestId('filter-status').selectOption('rejected')
  await expect(app.getByTestId('view-count')).toHaveText(new RegExp(`^${rest} samples`))
  await app.getByTestId('select-all').click()
  await expect(app.getByTestId('view-count')).toContainText(`${rest} selected`)
  await app.getByTestId('accept').click()
  await dialog.getByTestId('over-plan-all').click()
  await expect(app.getByTestId('gen-accepted')).toContainText(`(${rest} over plan)`)
  // a filtered sample a person accepted says accepted, with the filter's verdict second
  await app.getByTestId('filter-status').selectOption('accepted')
  const badges = await app
    .locator('[data-testid="sample"][data-status="accepted"] [data-testid="cell-badge"]')
    .evaluateAll((els) => els.map((e) => e.textContent!.trim()))
  for (const b of badges) expect(b).toMatch(/^accepted/)

  // export the reviewed dataset, with splits, and see the report
  const outRoot = mkdtempSync(join(tmpdir(), 'synthfold-e2e-export-'))
  try {
    await app.getByText('← Run #1').click()
    await app.getByText('← Dataset').click()
    const exp = app.getByTestId('export-panel')
    await expect(exp.getByTestId('export-preview')).toContainText('Ankle_boot')
    // the generations to take samples from: each of the dataset's, all chosen at first
    await expect(exp.getByTestId('export-generation-1')).toBeChecked()
    await exp.screenshot({ path: 'test-results/screenshots/export-panel.png' })
    const out = join(outRoot, 'augmented')
    await exp.getByTestId('export-out').fill(out)
    await exp.getByTestId('export-splits').check()
    await exp.getByTestId('export-start').click()
    await expect(app.getByTestId('export-status')).toHaveText('completed', { timeout: 60_000 })
    await expect(app.getByTestId('export-done')).toContainText('files')
    const report = app.frameLocator('[data-testid="export-report"]')
    await expect(report.getByRole('heading', { name: /Class counts/ })).toBeVisible()
    await expect(report.locator('table').first()).toContainText('Ankle_boot')
    await expect(report.locator('img').first()).toBeVisible()
    // one metadata file per split folder, paths relative to it (Hugging Face imagefolder)
    const csv = readFileSync(join(out, 'train', 'metadata.csv'), 'utf8')
    expect(csv.split('\n')[0]).toBe(
      'file_name,label,original_label,split,is_synthetic,source,class_confidence,novelty,sha256,origin,source_image,loss_weight',
    )
    expect(csv).toMatch(/^Bag\/synthetic-g1-s\d+\.png,Bag,,train,true,/m)
    await app.screenshot({ path: 'test-results/screenshots/export.png', fullPage: true })

    // the same folder again: refused with a clear message, nothing overwritten
    await app.getByText('← Dataset').click()
    await app.getByTestId('export-panel').getByTestId('export-out').fill(out)
    await app.getByTestId('export-panel').getByTestId('export-start').click()
    await expect(app.getByTestId('export-error')).toContainText('already holds files')
  } finally {
    rmSync(outRoot, { recursive: true, force: true })
  }

  // 20,000 samples: the grid keeps only what is on screen in the DOM and still reaches the end
  const db = new Database(join(host.home, 'synthfold.db'))
  const model = db
    .prepare(`SELECT * FROM samples WHERE generation_id = 1 AND status = 'accepted' LIMIT 1`)
    .get() as Record<string, unknown>
  const insert = db.prepare(
    `INSERT INTO samples (generation_id, class_index, seed, latent, file, confidence, novelty, nearest_distance,
       nearest_image_id, status, created_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?)`,
  )
  db.transaction(() => {
    for (let i = 0; i < 20_000; i++)
      insert.run(
        model.class_index,
        9_000_000 + i,
        model.latent,
        model.file,
        (i % 100) / 100,
        1 + (i % 7) / 10,
        model.nearest_distance,
        model.nearest_image_id,
        Date.now(),
      )
  })()
  db.close()
  await app.goto(`${host.url}#/generations/1`)
  await expect(app.getByTestId('view-count')).toHaveText(/^20,?\d{3} samples/)
  const grid = app.getByTestId('sample-grid')
  const frames = await grid.evaluate(
    (el) =>
      new Promise<number[]>((resolve) => {
        const gaps: number[] = []
        let last = performance.now()
        let steps = 0
        const step = (): void => {
          const now = performance.now()
          gaps.push(now - last)
          last = now
          el.scrollTop += 600
          if (++steps < 120) requestAnimationFrame(step)
          else resolve(gaps)
        }
        requestAnimationFrame(step)
      }),
  )
  const sorted = [...frames].sort((a, b) => a - b)
  console.log(
    `20,000-sample grid while scrolling: median frame ${sorted[sorted.length >> 1].toFixed(1)} ms, 95th percentile ${sorted[Math.floor(sorted.length * 0.95)].toFixed(1)} ms`,
  )
  expect(await app.getByTestId('sample').count()).toBeLessThan(400)
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight))
  await expect(app.getByTestId('sample').last()).toBeVisible()
  await app.getByTestId('sort').selectOption('confidence:desc')
  await expect(app.getByTestId('sample').first()).toBeVisible()
})
