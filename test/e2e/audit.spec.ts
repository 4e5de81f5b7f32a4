import { expect, test } from './fixtures'

/**
 * Issue 21 (audit half): a short run on the shipped sample, its audit from the run page, a relabel
 * of the top suspect to its suggested class, and the dataset's class counts moving by one image
 * from the old class to the new (then back on undo).
 */
test('relabel a suspect from the audit list and see the dataset counts change', async ({ app }) => {
  test.setTimeout(300_000)
  await app.getByTestId('import-sample').click()
  await app.getByTestId('dataset-card').getByRole('button').click()
  const histogram = app.getByTestId('histogram')
  await expect(histogram.getByRole('listitem')).toHaveCount(10)
  const countOf = async (name: string): Promise<number> => {
    const label = await histogram
      .getByRole('listitem')
      .filter({ hasText: new RegExp(`^${name}\\s*\\d+`) })
      .getAttribute('aria-label')
    return Number(/: (\d+) images/.exec(label ?? '')?.[1])
  }
  const panel = app.getByTestId('train-panel')
  await panel.getByText('Fast', { exact: true }).click()
  await panel.getByRole('button', { name: 'Show advanced settings' }).click()
  await panel.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('3')
  await panel.getByRole('spinbutton', { name: 'Batch size' }).fill('32')
  await app.getByTestId('train-start').click()
  await expect(app.getByTestId('run-status')).toHaveText('completed', { timeout: 150_000 })

  const audit = app.getByTestId('audit-panel')
  await audit.getByTestId('audit-start').click()
  await expect(audit.getByTestId('audit-summary')).toContainText('356 images audited', {
    timeout: 120_000,
  })
  const row = audit.getByTestId('audit-row').first()
  await expect(row).toBeVisible()
  const path = (await row.getAttribute('data-path'))!
  const from = (await row.getByTestId('audit-label').innerText()).trim()
  const to = (await row.getByTestId('audit-suggested').innerText()).trim()
  expect(to).not.toBe(from)
  // the list is sorted by score, highest first; the sort flips it
  const scores = (await audit.getByTestId('audit-score').allInnerTexts()).map(Number)
  expect(scores).toEqual([...scores].sort((a, b) => b - a))
  await audit.getByTestId('audit-sort').click()
  // the page is fetched again in the new order: wait for it rather than read the old rows
  await expect(audit.getByTestId('audit-sort')).toContainText('▲')
  await expect
    .poll(async () => {
      const ascending = (await audit.getByTestId('audit-score').allInnerTexts()).map(Number)
      return ascending.length > 1 && ascending.every((v, i) => i === 0 || ascending[i - 1]! <= v)
    })
    .toBe(true)
  await audit.getByTestId('audit-sort').click()
  await expect(audit.getByTestId('audit-row').first()).toHaveAttribute('data-path', path)

  await app.getByText('← Dataset').click()
  const before = { from: await countOf(from), to: await countOf(to) }
  await app.goBack()
  await audit.getByTestId('audit-row').first().getByTestId('audit-relabel').click()
  await expect(audit.getByTestId('audit-undo')).toContainText(`${path} relabelled ${to}`)
  // read against its new label it is no longer a suspect
  await expect(audit.locator(`[data-path="${path}"]`)).toHaveCount(0)

  await app.getByText('← Dataset').click()
  await expect
    .poll(async () => ({ from: await countOf(from), to: await countOf(to) }))
    .toEqual({ from: before.from - 1, to: before.to + 1 })
  await app.screenshot({ path: 'test-results/screenshots/audit-relabelled-counts.png' })

  await app.goBack()
  await audit.getByTestId('audit-undo').click()
  await expect(audit.getByTestId('audit-undo')).toHaveCount(0)
  await expect(audit.getByTestId('audit-row').first()).toHaveAttribute('data-path', path)
  await audit.screenshot({ path: 'test-results/screenshots/audit-panel.png' })
  await app.getByText('← Dataset').click()
  await expect
    .poll(async () => ({ from: await countOf(from), to: await countOf(to) }))
    .toEqual(before)
})
