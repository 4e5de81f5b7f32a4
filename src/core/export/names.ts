/**
 * File and folder names that are valid on Windows, macOS and Linux alike, so an exported dataset
 * can be copied to any of them (or zipped and unzipped there) without a single rename.
 */

/** Characters Windows forbids in a name, path separators, and control characters. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[/\\<>:"|?*\u0000-\u001f\u007f]/g
/** A surrogate half without its partner: not encodable as UTF-8, so not a valid name anywhere. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
/**
 * Windows device names: a file whose stem (the part before the first dot, trailing spaces
 * ignored) is one of these opens the device instead, whatever the extension or case.
 */
const RESERVED = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])$/i

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

/** UTF-8 length of a string, in bytes: the unit file systems limit names by (255 on most). */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/**
 * The longest prefix of `s` that fits in `maxBytes` of UTF-8. Cuts between grapheme clusters
 * (so a flag or a family emoji is kept whole or dropped whole) and, inside a cluster too long to
 * keep, between code points, so a surrogate pair is never split.
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (utf8Bytes(s) <= maxBytes) return s
  let out = ''
  let used = 0
  for (const { segment } of graphemes.segment(s)) {
    const n = utf8Bytes(segment)
    if (used + n <= maxBytes) {
      out += segment
      used += n
      continue
    }
    for (const cp of segment) {
      const m = utf8Bytes(cp)
      if (used + m > maxBytes) break
      out += cp
      used += m
    }
    break
  }
  return out
}

/**
 * Fixes that depend on the whole name, applied after truncation (which can expose a trailing
 * dot or space): Windows drops trailing dots and spaces silently, so `a.` and `a` would be one
 * folder; what is left empty (`''`, `.`, `..`) becomes `_`; a leading dot would hide the folder on
 * macOS and Linux (and Hugging Face `datasets` skips hidden paths), so it gets a `_` prefix; a
 * Windows device name gets a `_` after its stem (`con.txt` → `con_.txt`).
 */
function tidy(s: string): string {
  let t = s.replace(/[. ]+$/u, '')
  if (t === '') return '_'
  if (t.startsWith('.')) t = `_${t}`
  const dot = t.indexOf('.')
  const stem = dot < 0 ? t : t.slice(0, dot)
  if (RESERVED.test(stem.trimEnd())) t = `${stem}_${dot < 0 ? '' : t.slice(dot)}`
  return t
}

/**
 * A name for `label` that is safe as one path component on Windows, macOS and Linux, at most
 * `maxBytes` UTF-8 bytes (200 by default: leaves room under the usual 255-byte limit for the
 * temporary names the export writes next to it). NFC-normalised (macOS stores names decomposed
 * otherwise, and two spellings of `é` would become two folders); separators, control characters
 * and `<>:"|?*` become `_`; letters of every script and emoji are kept. Never `.`, `..` or empty.
 * Different labels can map to the same name: use {@link assignFolderNames} for a set of labels.
 */
export function safeName(label: string, maxBytes = 200): string {
  if (!Number.isInteger(maxBytes) || maxBytes < 8) {
    throw new RangeError(`maxBytes must be an integer of at least 8, got ${maxBytes}`)
  }
  const clean = label.replace(LONE_SURROGATE, '_').normalize('NFC').replace(FORBIDDEN, '_')
  // A fix-up can add one byte, so shorten until the result fits.
  for (let limit = maxBytes; ; limit--) {
    const name = tidy(truncateUtf8(clean, limit))
    if (utf8Bytes(name) <= maxBytes) return name
  }
}

/**
 * The key two names collide under on a case-insensitive file system (Windows, default macOS):
 * upper- then lower-casing also folds pairs such as `ς`/`σ` and `K` (Kelvin)/`k`.
 */
export function nameKey(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase()
}

/** `base` with `~n` appended, shortened so the whole stays within `maxBytes`. */
function withSuffix(base: string, n: number, maxBytes: number): string {
  const suffix = `~${n}`
  return safeName(truncateUtf8(base, maxBytes - suffix.length) + suffix, maxBytes)
}

/**
 * One safe folder name per label, in the order given, all distinct even on a case-insensitive
 * file system. Labels whose safe names collide (`Cat`/`cat`, `a/b`/`a_b`) are ordered, a label
 * that needed no change first (so `a_b` keeps `a_b` and `a/b` gets `a_b~2`), then by the label's
 * UTF-16 code units; the first keeps the plain name and the others get `~2`, `~3`…, so the
 * result does not depend on the order of `labels`. Names in `taken` (files the
 * export writes beside the folders, such as `metadata.csv`) are never handed out.
 */
export function assignFolderNames(
  labels: string[],
  taken: string[] = [],
  maxBytes = 200,
): string[] {
  const bases = labels.map((l) => safeName(l, maxBytes))
  const used = new Set(taken.map(nameKey))
  const result: string[] = new Array(labels.length)
  const byKey = new Map<string, number[]>()
  for (let i = 0; i < labels.length; i++) {
    const key = nameKey(bases[i])
    const group = byKey.get(key)
    if (group) group.push(i)
    else byKey.set(key, [i])
  }
  const order = (a: number, b: number): number =>
    Number(bases[a] !== labels[a]) - Number(bases[b] !== labels[b]) ||
    (labels[a] < labels[b] ? -1 : labels[a] > labels[b] ? 1 : a - b)
  const waiting: number[] = []
  for (const [key, group] of byKey) {
    group.sort(order)
    if (used.has(key)) waiting.push(...group)
    else {
      used.add(key)
      result[group[0]] = bases[group[0]]
      waiting.push(...group.slice(1))
    }
  }
  waiting.sort((a, b) => {
    const ka = nameKey(bases[a])
    const kb = nameKey(bases[b])
    return ka < kb ? -1 : ka > kb ? 1 : order(a, b)
  })
  for (const i of waiting) {
    let n = 2
    let name = withSuffix(bases[i], n, maxBytes)
    while (used.has(nameKey(name))) name = withSuffix(bases[i], ++n, maxBytes)
    used.add(nameKey(name))
    result[i] = name
  }
  return result
}
