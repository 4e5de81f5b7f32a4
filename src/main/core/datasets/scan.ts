import { readdirSync, statSync, type Dirent, type Stats } from 'node:fs'
import { extname, join } from 'node:path'
import { IMAGE_EXTENSIONS } from './formats'

export interface Candidate {
  /** Path relative to the root, with '/' separators. */
  relPath: string
  absPath: string
  /** First-level folder name, or null for image files lying directly in the root. */
  classFolder: string | null
  size: number
  mtimeMs: number
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

const isHidden = (name: string): boolean =>
  name.startsWith('.') || name === '__MACOSX' || name === 'Thumbs.db' || name === 'desktop.ini'

/**
 * Walks a labeled folder tree without modifying it. Uses synchronous fs calls on purpose: it runs
 * in the import worker thread, where they are several times faster than promise-based ones for
 * tens of thousands of small files, and no UI waits on this thread. Follows symlinks but visits each real
 * directory and each real file once (by device and inode), so loops and aliases add nothing.
 */
export function scanTree(
  root: string,
  onCount?: (n: number) => void,
  shouldStop?: () => boolean,
): ScanResult {
  const result: ScanResult = { candidates: [], classFolders: [], ignored: 0, problems: [] }
  const seenDirs = new Set<string>()
  const seenFiles = new Set<string>()
  const rootStat = statSync(root)
  seenDirs.add(key(rootStat))

  const walk = async (
    dirAbs: string,
    dirRel: string,
    classFolder: string | null,
  ): Promise<void> => {
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
    // Real entries before symlinks, so an alias never hides the file it points to.
    entries.sort(
      (a, b) =>
        Number(a.isSymbolicLink()) - Number(b.isSymbolicLink()) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    for (const entry of entries) {
      if (shouldStop?.()) return
      if (isHidden(entry.name)) continue
      const abs = join(dirAbs, entry.name)
      const rel = dirRel ? `${dirRel}/${entry.name}` : entry.name
      let st: Stats
      try {
        st = statSync(abs)
      } catch (err) {
        if (entry.isSymbolicLink()) {
          if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
            result.problems.push({ relPath: rel, reason: 'broken symbolic link' })
          continue
        }
        result.problems.push({ relPath: rel, reason: `could not be read (${errCode(err)})` })
        continue
      }
      if (st.isDirectory()) {
        const k = key(st)
        if (seenDirs.has(k)) continue
        seenDirs.add(k)
        const cls = classFolder ?? entry.name
        if (classFolder === null) result.classFolders.push(entry.name)
        walk(abs, rel, cls)
      } else if (st.isFile()) {
        if (!IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
          result.ignored++
          continue
        }
        const k = key(st)
        if (seenFiles.has(k)) continue
        seenFiles.add(k)
        result.candidates.push({
          relPath: rel,
          absPath: abs,
          classFolder,
          size: st.size,
          mtimeMs: Math.trunc(st.mtimeMs),
        })
        if (result.candidates.length % 1000 === 0) onCount?.(result.candidates.length)
      }
    }
  }
  walk(root, '', null)
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
