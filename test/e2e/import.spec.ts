import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { expect, test } from './fixtures'

test('a new user imports the sample dataset and sees classes, imbalance, thumbnails and skipped files', async ({
  app,
}) => {
  await expect(app.getByRole('heading', { name: 'New here? Try the sample dataset' })).toBeVisible()
  await app.getByTestId('import-sample').click()
  await expect(app.getByTestId('job-outcome')).toContainText(
    'Imported Fashion-MNIST sample: 356 images in 10 classes · 2 skipped',
  )
  const card = app.getByTestId('dataset-card')
  await expect(card).toContainText('356 images · 10 classes · imbalance 10:1')
  await card.getByRole('button').click()

  await expect(app.getByTestId('dataset-title')).toHaveText('Fashion-MNIST sample')
  await expect(app.getByTestId('stat-images')).toHaveText('356')
  await expect(app.getByTestId('stat-imbalance')).toHaveText('10:1')
  const hist = app.getByTestId('histogram')
  await expect(hist.getByRole('listitem')).toHaveCount(10)
  await expect(hist.getByRole('listitem').first()).toHaveAccessibleName('T-shirt_top: 80 images')
  await expect(hist.getByRole('listitem').last()).toHaveAccessibleName('Ankle_boot: 8 images')
  // the evaluation split the first run will set aside, and the classes too small to hold any out
  await expect(app.getByTestId('held-out-note')).toContainText(
    'When the first run starts, 54 real images',
  )
  await expect(app.getByTestId('held-out-note')).toContainText('Ankle_boot has fewer than 12')

  // thumbnails are real images served through the media route
  const thumbs = app.getByTestId('thumbgrid').locator('img')
  await expect(thumbs.first()).toBeVisible()
  await expect
    .poll(() =>
      thumbs.first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
    )
    .toBe(28)
  // only what is on screen is in the DOM
  expect(await thumbs.count()).toBeLessThan(356)

  // pick a class from the histogram: the grid shows just that class
  await hist.getByRole('listitem', { name: 'Ankle_boot: 8 images' }).click()
  await expect(thumbs).toHaveCount(8)
  await expect(thumbs.first()).toHaveAttribute('alt', /^Ankle_boot\//)

  const report = app.getByTestId('skipped-report')
  await expect(report.getByRole('row')).toHaveCount(3)
  await expect(report).toContainText('Bag/broken-truncated.png')
  await expect(report).toContainText('damaged or truncated PNG file')
  await expect(report).toContainText('Coat/notes-not-an-image.png')
  await expect(report).toContainText('not an image: the content does not match its .png extension')
  await app.screenshot({ path: 'test-results/screenshots/dataset.png', fullPage: true })

  // a reload keeps the page and the data (real SQLite file)
  await app.reload()
  await expect(app.getByTestId('dataset-title')).toHaveText('Fashion-MNIST sample')
})

test('importing by path: bad paths get a clear message, a real folder imports, keyboard works', async ({
  app,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'synthfold-e2e-src-'))
  try {
    for (const [cls, n, colour] of [
      ['apples', 12, '#c33'],
      ['pears', 3, '#3c3'],
    ] as const) {
      mkdirSync(join(dir, cls))
      for (let i = 0; i < n; i++) {
        const png = await sharp({
          create: { width: 48, height: 48, channels: 3, background: colour },
        })
          .composite([
            {
              input: Buffer.from(
                `<svg width="48" height="48"><circle cx="${10 + i * 2}" cy="24" r="8" fill="#fff"/></svg>`,
              ),
            },
          ])
          .png()
          .toBuffer()
        writeFileSync(join(dir, cls, `${i}.png`), png)
      }
    }
    writeFileSync(join(dir, 'pears', 'empty.jpg'), '')

    const input = app.getByTestId('import-path')
    await input.fill(join(dir, 'does-not-exist'))
    await input.press('Enter')
    await expect(app.getByTestId('import-error')).toHaveText(
      `Folder not found: ${join(dir, 'does-not-exist')}`,
    )

    await input.fill(dir)
    await app.getByRole('textbox', { name: 'Dataset name' }).fill('Fruit')
    await app.getByRole('combobox', { name: 'Training resolution' }).selectOption('32')
    await app.getByTestId('import-submit').focus()
    await app.keyboard.press('Enter')
    await expect(app.getByTestId('job-outcome')).toContainText(
      'Imported Fruit: 15 images in 2 classes · 1 skipped',
    )
    await app.getByRole('button', { name: 'Open dataset Fruit' }).press('Enter')
    await expect(app.getByTestId('stat-imbalance')).toHaveText('4.0:1')
    await expect(app.getByTestId('skipped-report')).toContainText('empty file (0 bytes)')
    await expect(app.getByText('32 px', { exact: true })).toBeVisible()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
