import { describe, expect, it } from 'vitest'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { assignFolderNames, nameKey, safeName, utf8Bytes } from '../../../src/core/export/names'
import { tmp } from './helpers'

/** What every name must be on Windows, macOS and Linux. */
function expectPortable(name: string, maxBytes = 200): void {
  // eslint-disable-next-line no-control-regex
  expect(name).not.toMatch(/[/\\<>:"|?*\u0000-\u001f\u007f]/)
  expect(['', '.', '..']).not.toContain(name)
  expect(name).not.toMatch(/[. ]$/)
  expect(name.startsWith('.')).toBe(false)
  expect(name.split('.')[0].trimEnd()).not.toMatch(/^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i)
  expect(utf8Bytes(name)).toBeLessThanOrEqual(maxBytes)
  // valid UTF-8: survives a round trip unchanged (a split surrogate would become U+FFFD)
  expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name)
  expect(name).toBe(name.normalize('NFC'))
}

describe('safeName', () => {
  it.each([
    ['../x', '_.._x'],
    ['..', '_'],
    ['.', '_'],
    ['', '_'],
    ['   ', '_'],
    ['CON', 'CON_'],
    ['con.txt', 'con_.txt'],
    ['Lpt¹', 'Lpt¹_'],
    ['com7.tar.gz', 'com7_.tar.gz'],
    ['nul .txt', 'nul _.txt'],
    ['console', 'console'],
    ['a/b', 'a_b'],
    ['a\\b', 'a_b'],
    ['a\u0000b', 'a_b'],
    ['tab\there\u007f', 'tab_here_'],
    ['what?<>:"|*', 'what_______'],
    ['dots...', 'dots'],
    ['.hidden', '_.hidden'],
    ['chat 🐈 été', 'chat 🐈 été'],
    ['猫', '猫'],
  ])('%j → %j', (label, want) => {
    const name = safeName(label)
    expect(name).toBe(want)
    expectPortable(name)
  })

  it('composes decomposed accents (NFC), so both spellings are one folder', () => {
    expect(safeName('e\u0301te\u0301')).toBe('été')
  })

  it('truncates long labels to 200 UTF-8 bytes at a character boundary', () => {
    const cases = ['é'.repeat(150), '🐈'.repeat(80), 'a' + '🐈'.repeat(80), '👨‍👩‍👧'.repeat(20)]
    for (const label of cases) {
      expect(utf8Bytes(label)).toBeGreaterThan(200)
      const name = safeName(label)
      expectPortable(name)
      expect(utf8Bytes(name)).toBeGreaterThan(190)
      expect(label.startsWith(name)).toBe(true)
    }
    expect(safeName('é'.repeat(150))).toBe('é'.repeat(100))
    expect(safeName('a' + '🐈'.repeat(80))).toBe('a' + '🐈'.repeat(49))
    // a family emoji is one grapheme of 18 bytes: kept whole or not at all
    expect(safeName('👨‍👩‍👧'.repeat(20))).toBe('👨‍👩‍👧'.repeat(11))
  })

  it('keeps a truncation from ending in a dot or space', () => {
    const name = safeName('x'.repeat(199) + '. tail')
    expect(name).toBe('x'.repeat(199))
  })

  it('never produces a name a real file system refuses', () => {
    const dir = tmp('names')
    try {
      const labels = [
        '../x',
        '..',
        '.',
        '',
        'CON',
        'a/b',
        'a\u0000b',
        '🐈'.repeat(80),
        'é'.repeat(150),
      ]
      for (const n of assignFolderNames(labels)) mkdirSync(join(dir, n))
      expect(readdirSync(dir)).toHaveLength(labels.length)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('assignFolderNames', () => {
  it('makes names distinct even ignoring case and after sanitising', () => {
    const labels = ['cat', 'Cat', 'a/b', 'a_b', '', '.', '..', 'CAT']
    const names = assignFolderNames(labels)
    expect(names).toEqual(['cat~3', 'Cat~2', 'a_b~2', 'a_b', '_', '_~2', '_~3', 'CAT'])
    expect(new Set(names.map(nameKey)).size).toBe(labels.length)
    names.forEach((n) => expectPortable(n))
  })

  it('does not depend on the order of the labels', () => {
    const labels = ['cat', 'Cat', 'a/b', 'a_b', 'dog', 'DOG~2', 'Dog']
    const names = assignFolderNames(labels)
    const map = new Map(labels.map((l, i) => [l, names[i]]))
    const reversed = [...labels].reverse()
    const again = assignFolderNames(reversed)
    reversed.forEach((l, i) => expect(again[i]).toBe(map.get(l)))
    // 'DOG~2' is a real label, so the suffix skips to ~3
    expect(map.get('Dog')).toBe('Dog')
    expect(map.get('dog')).toBe('dog~3')
  })

  it('keeps suffixed names within the byte limit', () => {
    const long = '🐈'.repeat(80)
    const names = assignFolderNames([long, long.toUpperCase(), long + 'x'])
    expect(new Set(names).size).toBe(3)
    names.forEach((n) => expectPortable(n))
    expect(names.filter((n) => /~[23]$/.test(n))).toHaveLength(2)
  })

  it('never hands out a name that is taken', () => {
    expect(assignFolderNames(['metadata.csv', 'METADATA.CSV'], ['metadata.csv'])).toEqual([
      'metadata.csv~3',
      'METADATA.CSV~2',
    ])
  })
})
