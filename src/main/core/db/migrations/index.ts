import type { Database } from 'better-sqlite3'
import { migrate0010 } from './0010-datasets'

/** Ordered migration steps; step i brings the database to user_version i + 1. */
export const migrations: ReadonlyArray<(db: Database) => void> = [migrate0010]
