import { describe, expect, it } from 'vitest'
import { reportHtml } from '../../../src/core/export/report'
import type { ExportOptions } from '../../../src/shared/export'

describe('the export report', () => {
  it('dates itself in words a person reads, in UTC', async () => {
    const html = (
      await reportHtml({
        datasetName: 'fashion',
        options: { include: 'accepted', splits: null, upscale: null } as unknown as ExportOptions,
        classes: [],
        files: [],
        runs: [],
        createdAt: new Date('2026-12-02T18:40:59.123Z'),
        mixedSizes: null,
        manifests: [],
      })
    ).toString()
    expect(html).toContain('2 December 2026, 18:40 UTC')
    // the ISO form stays only where machines read it
    expect(html).not.toMatch(/>[^<]*2026-12-02T/)
    expect(html).toContain('<time datetime="2026-12-02T18:40:59.123Z">')
  })
})
