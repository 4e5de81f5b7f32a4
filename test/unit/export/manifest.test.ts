import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import {
  csvRow,
  manifestCsv,
  manifestJsonl,
  type ManifestRow,
} from '../../../src/core/export/manifest'

const rows: ManifestRow[] = [
  {
    file_name: 'train/cat/x.png',
    label: 'cat',
    original_label: null,
    split: 'train',
    is_synthetic: false,
    source: '/data/cats/x.png',
    class_confidence: null,
    novelty: null,
    sha256: 'ab'.repeat(32),
    origin: 'real',
    source_image: '/data/cats/x.png',
    loss_weight: 1,
  },
  {
    file_name: 'train/a_b/s1.png',
    label: 'say "hi", a/b\nnew line',
    original_label: null,
    split: null,
    is_synthetic: true,
    source: 'run:3/checkpoint:best@12/seed:99',
    class_confidence: 0.875,
    novelty: 1e-7,
    sha256: 'cd'.repeat(32),
    origin: 'cvae',
    source_image: null,
    loss_weight: 0.5,
  },
  {
    file_name: 'train/cat/augmented-g2-s7.png',
    label: 'cat',
    original_label: null,
    split: 'train',
    is_synthetic: true,
    source: 'run:3/augment/seed:7',
    class_confidence: 0.5,
    novelty: 0.2,
    sha256: 'ef'.repeat(32),
    origin: 'augment',
    source_image: '/data/cats/x.png',
    loss_weight: 0.5,
  },
]

describe('manifest', () => {
  it('quotes CSV fields as RFC 4180 says', () => {
    expect(csvRow(['a', 'b,c', 'say "hi"', 'x\ny', 'r\rn', 1.5, true, false, null, NaN])).toBe(
      'a,"b,c","say ""hi""","x\ny","r\rn",1.5,true,false,,\n',
    )
  })

  it('writes a CSV that Python reads back to the same values', () => {
    const csv = manifestCsv(rows)
    expect(csv.split('\n')[0]).toBe(
      // the columns of earlier releases first, in their order; the new ones appended
      'file_name,label,original_label,split,is_synthetic,source,class_confidence,novelty,sha256,origin,source_image,loss_weight',
    )
    const py = spawnSync(
      '/usr/bin/python3',
      ['-c', 'import csv,sys,json; print(json.dumps(list(csv.DictReader(sys.stdin))))'],
      { input: csv, encoding: 'utf8' },
    )
    expect(py.status, py.stderr).toBe(0)
    const back = JSON.parse(py.stdout) as Record<string, string>[]
    expect(back).toHaveLength(3)
    expect(back[1].label).toBe(rows[1].label)
    expect(back[1].split).toBe('')
    expect(back[1].is_synthetic).toBe('true')
    expect(Number(back[1].novelty)).toBe(1e-7)
    expect(back[0].class_confidence).toBe('')
    expect(back.map((r) => r.origin)).toEqual(['real', 'cvae', 'augment'])
    expect(back[2].source_image).toBe('/data/cats/x.png')
    expect(back[1].source_image).toBe('')
    // the suggested loss weight comes last, after every earlier column
    expect(Number(back[1].loss_weight)).toBe(0.5)
    expect(Number(back[0].loss_weight)).toBe(1)
  })

  it('writes one JSON object per line with the columns in order', () => {
    const lines = manifestJsonl(rows).split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[3]).toBe('')
    expect(JSON.parse(lines[1])).toEqual(rows[1])
    expect(Object.keys(JSON.parse(lines[0]))[0]).toBe('file_name')
  })
})
