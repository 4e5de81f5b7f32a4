// bench/quality's colour set: Debian's icon themes, in categories named by the icons' own names
// (the freedesktop naming spec: folder-*, text-*, face-*, weather-*, ...), so every theme files the
// same kinds of picture under the same words. The dataset is Oxygen's, long-tailed as the theme
// is (about 10 to 1); the judge learns the same categories from other artists' themes (Breeze,
// Papirus, Adwaita) and never sees an Oxygen icon.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import sharp from 'sharp'

const ICONS = '/usr/share/icons'

/**
 * The categories: an icon belongs when its file name (without extension) matches and it sits in
 * one of the category's context folders (so application-exit, an action, is not a document type).
 */
export const ICON_CATEGORIES: { name: string; match: RegExp; contexts: string[] }[] = [
  { name: 'application', match: /^application-/, contexts: ['mimetypes'] },
  { name: 'text', match: /^text-/, contexts: ['mimetypes'] },
  { name: 'mail', match: /^mail-/, contexts: ['actions', 'status', 'places', 'apps'] },
  { name: 'folder', match: /^folder/, contexts: ['places'] },
  { name: 'image', match: /^image-/, contexts: ['mimetypes'] },
  { name: 'weather', match: /^weather-/, contexts: ['status'] },
  { name: 'battery', match: /^battery/, contexts: ['status', 'devices'] },
  { name: 'face', match: /^face-/, contexts: ['emotes'] },
]

export const categoryOf = (file: string): number =>
  ICON_CATEGORIES.findIndex(
    (c) =>
      c.match.test(basename(file).replace(/\.(png|svg)$/, '')) &&
      c.contexts.some((ctx) => file.includes(`/${ctx}/`)),
  )

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    let s
    try {
      s = statSync(p)
    } catch {
      continue // a dangling link
    }
    if (s.isDirectory()) walk(p, out)
    else if (/\.(png|svg)$/.test(e)) out.push(p)
  }
  return out
}

/** Icon files of one category, one per real file (themes link many names to one picture). */
function filesIn(roots: string[], category: number, skip: RegExp): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  for (const root of roots)
    for (const f of walk(root)) {
      if (skip.test(f) || categoryOf(f) !== category) continue
      const real = realpathSync(f)
      const key = basename(f).replace(/\.(png|svg)$/, '')
      if (seen.has(real) || seen.has(key)) continue
      seen.add(real)
      seen.add(key)
      out.push(f)
    }
  return out.sort()
}

/**
 * The dataset's source: Oxygen's icons, each from its own PNG at this size, or at the nearest
 * larger one the theme has (some icons stop at 32 px).
 */
export function oxygenFiles(size: 32 | 64): string[][] {
  const sides = [size, 64, 128, 256, 48, 32].filter((s, i, a) => s >= size && a.indexOf(s) === i)
  const roots = sides.map((s) => join(ICONS, 'oxygen/base', `${s}x${s}`))
  return ICON_CATEGORIES.map((_, c) => filesIn(roots, c, /\/animations\//))
}

/**
 * The judge's source: every other colour theme. Symbolic (one-colour) icons are left out; per
 * theme, one size folder (the largest at or under 64 px), since the same icon at 32 and 48 px is
 * one drawing.
 */
export function judgeFiles(): string[][] {
  const roots = [
    join(ICONS, 'Papirus/64x64'),
    join(ICONS, 'Papirus/48x48'),
    join(ICONS, 'ePapirus/64x64'),
    join(ICONS, 'Adwaita/64x64'),
    join(ICONS, 'Adwaita/48x48'),
    ...['breeze', 'breeze-dark'].flatMap((t) =>
      readdirSync(join(ICONS, t))
        .filter((ctx) => statSync(join(ICONS, t, ctx)).isDirectory())
        .flatMap((ctx) => ['64', '48', '32'].map((s) => join(ICONS, t, ctx, s))),
    ),
  ]
  return ICON_CATEGORIES.map((_, c) => filesIn(roots, c, /symbolic|\/(16|22|24)\//))
}

/** An icon as RGB over white at size x size (what the app's import makes of an RGBA icon). */
export async function renderIcon(file: string, size: number): Promise<Uint8Array> {
  const { data } = await sharp(readFileSync(file), { density: 300 })
    .resize(size, size, { fit: 'contain', background: { r: 255, g: 255, b: 255, alpha: 0 } })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/** Whether an image has colour (a symbolic icon is one gray or one tint). */
export function isColourful(px: Uint8Array): boolean {
  let sat = 0
  for (let i = 0; i < px.length; i += 3) {
    const mx = Math.max(px[i], px[i + 1], px[i + 2])
    const mn = Math.min(px[i], px[i + 1], px[i + 2])
    if (mx - mn > 40) sat++
  }
  return sat / (px.length / 3) > 0.03
}

export const hashOf = (px: Uint8Array): string => createHash('sha1').update(px).digest('hex')
