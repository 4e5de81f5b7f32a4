import { afterEach, describe, expect, it } from 'vitest'
import BetterSqlite3 from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { openDatabase, SCHEMA_VERSION } from '../../src/core/db/database'
import { tmp } from './helpers/messy'

describe('database migrations', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

  it('creates the schema from an empty file: WAL, user_version, STRICT tables', () => {
    const dir = tmp('db')
    dirs.push(dir)
    const db = openDatabase(join(dir, 'nested', 'synthfold.db'))
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    const tables = db
      .prepare(
        `SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%'`,
      )
      .all()
    expect(tables).toEqual(
      expect.arrayContaining([
        { name: 'datasets', strict: 1 },
        { name: 'classes', strict: 1 },
        { name: 'images', strict: 1 },
      ]),
    )
    // STRICT really bites: a text in an INTEGER column is refused
    expect(() =>
      db
        .prepare(
          `INSERT INTO datasets (name, root, size, channels, fit, status, created_at, updated_at) VALUES ('x', '/x', 'big', 'gray', 'cover', 'ready', 0, 0)`,
        )
        .run(),
    ).toThrow(/cannot store TEXT value in INTEGER column/)
    db.close()
    // opening again is a no-op
    const again = openDatabase(join(dir, 'nested', 'synthfold.db'))
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    again.close()
  })

  it('runs each step in its own transaction and stops at a failing one', () => {
    const dir = tmp('db')
    dirs.push(dir)
    const file = join(dir, 'x.db')
    const steps = [
      (db: BetterSqlite3.Database) => db.exec('CREATE TABLE a (x INTEGER) STRICT'),
      () => {
        throw new Error('boom')
      },
    ]
    expect(() => openDatabase(file, steps)).toThrow('boom')
    const raw = new BetterSqlite3(file)
    expect(raw.pragma('user_version', { simple: true })).toBe(1)
    raw.close()
  })

  it('refuses a database written by a newer version, and leaves it alone', () => {
    const dir = tmp('db')
    dirs.push(dir)
    const file = join(dir, 'newer.db')
    const raw = new BetterSqlite3(file)
    raw.pragma('user_version = 99')
    raw.close()
    expect(() => openDatabase(file)).toThrow(
      /newer version of Synthfold \(schema 99, this app knows \d+\)/,
    )
    const check = new BetterSqlite3(file)
    expect(check.pragma('user_version', { simple: true })).toBe(99)
    check.close()
  })
})
