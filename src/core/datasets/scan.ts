import { readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs'
import { sep } from 'node:path'
import { IMAGE_EXTENSIONS } from './formats'

export interface Candidate {
  /** Path relative to the root, with '/' separators. */
  relPath: string
  /** Canonical path (symlinked folders resolved), so aliases can be recognised. */
  absPath: string
  /** First-level folder name, or null for image files lying directly in the root. */
  classFolder: string | null
}

export interface ScanProblem {
  relPath: string
  reason: string
}

export interface ScanResult {
  candidates: Candidate[]
  /** Class folders seen, even empty ones. */
  classFolders: string[]
  /** Files without an image extension. */
  ignored: number
  /** Folders or entries that could not be read. */
  problems: ScanProblem[]
}

const HIDDEN = new Set(['__MACOSX', 'Thumbs.db', 'desktop.ini'])
const isHidden = (name: string): boolean => name.startsWith('.') || HIDDEN.has(name)
/** The extension test of every entry: what path.extname gives for non-hidden names, without it. */
const isImageName = (name: string): boolean => {
  const dot = name.lastIndexOf('.')
  return dot > 0 && IMAGE_EXTENSIONS.has(name.slice(dot).toLowerCase())
}

/**
 * Walks a labeled folder tree without modifying it. Plain files are not stat'ed here: the decoder
 * threads stat them from the open descriptor, in parallel. Each real directory is visited once (by
 * device and inode), so symlink loops end; a symlinked file is kept only when it points outside
 * the files already found, so an alias never adds a duplicate or steals another class's file.
 * Synchronous on purpose: it runs in the import worker thread, where sync fs calls are several
 * times cheaper than promise-based ones for tens of thousands of entries.
 */
export function scanTree(
  root: string,
  onCount?: (n: number) => void,
  shouldStop?: () => boolean,
): ScanResult {
  const result: ScanResult = { candidates: [], classFolders: [], ignored: 0, problems: [] }
  const seenDirs = new Set<string>([key(statSync(root))])
  const links: Candidate[] = []

  const walk = (dirAbs: string, dirRel: string, classFolder: string | null): void => {
    let entries: Dirent[]
    try {
      entries = readdirSync(dirAbs, { withFileTypes: true })
    } catch (err) {
      result.problems.push({
        relPath: dirRel || '.',
        reason: `folder could not be read (${errCode(err)})`,
      })
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    // Plain concatenation (path.join normalises every path again: a third of the scan's time).
    const absPrefix = dirAbs.endsWith(sep) ? dirAbs : dirAbs + sep
    const relPrefix = dirRel ? `${dirRel}/` : ''
    for (const entry of entries) {
      if (shouldStop?.()) return
      if (isHidden(entry.name)) continue
      const abs = absPrefix + entry.name
      const rel = relPrefix + entry.name
      if (entry.isFile()) {
        if (!isImageName(entry.name)) result.ignored++
        else {
          result.candidates.push({ relPath: rel, absPath: abs, classFolder })
          if (result.candidates.length % 2000 === 0) onCount?.(result.candidates.length)
        }
        continue
      }
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue
      let st: Stats
      try {
        st = statSync(abs)
      } catch (err) {
        if (!entry.isSymbolicLink())
          result.problems.push({ relPath: rel, reason: `could not be read (${errCode(err)})` })
        else if (isImageName(entry.name))
          result.problems.push({ relPath: rel, reason: 'broken symbolic link' })
        continue
      }
      if (st.isDirectory()) {
        const k = key(st)
        if (seenDirs.has(k)) continue
        seenDirs.add(k)
        if (classFolder === null) result.classFolders.push(entry.name)
        let real = abs
        try {
          real = entry.isSymbolicLink() ? realpathSync(abs) : abs
        } catch {
          // keep the link path; the walk below reports what it cannot read
        }
        walk(real, rel, classFolder ?? entry.name)
      } else if (st.isFile()) {
        if (!isImageName(entry.name)) result.ignored++
        else {
          try {
            links.push({ relPath: rel, absPath: realpathSync(abs), classFolder })
          } catch (err) {
            result.problems.push({ relPath: rel, reason: `could not be read (${errCode(err)})` })
          }
        }
      }
    }
  }
  walk(root, '', null)
  const known = new Set(result.candidates.map((c) => c.absPath))
  for (const link of links) {
    if (known.has(link.absPath)) continue
    known.add(link.absPath)
    result.candidates.push(link)
  }
  onCount?.(result.candidates.length)
  return result
}

const key = (st: Stats): string => `${st.dev}:${st.ino}`

function errCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'ELOOP') return 'too many symbolic links'
  if (code === 'ENOENT') return 'it disappeared during the import'
  return code ?? (err instanceof Error ? err.message : String(err))
}
