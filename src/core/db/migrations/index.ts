import type { Database } from 'better-sqlite3'
import { migrate0010 } from './0010-datasets'
import { migrate0020 } from './0020-runs'
import { migrate0030 } from './0030-generations'
import { migrate0040 } from './0040-exports'
import { migrate0050 } from './0050-run-supervisor'
import { migrate0060 } from './0060-generation-calibration'
import { migrate0070 } from './0070-generation-parent'
import { migrate0080 } from './0080-run-forecast'
import { migrate0090 } from './0090-sample-source'
import { migrate0095 } from './0095-held-out'
import { migrate0097 } from './0097-evaluations'
import { migrate0100 } from './0100-audits'
import { migrate0105 } from './0105-image-overrides'
import { migrate0110 } from './0110-studio-maps'
import { migrate0120 } from './0120-epoch-stage'

/** Ordered migration steps; step i brings the database to user_version i + 1. */
export const migrations: ReadonlyArray<(db: Database) => void> = [
  migrate0010,
  migrate0020,
  migrate0030,
  migrate0040,
  migrate0050,
  migrate0060,
  migrate0070,
  migrate0080,
  migrate0090,
  migrate0095,
  migrate0097,
  migrate0100,
  migrate0105,
  migrate0110,
  migrate0120,
]
