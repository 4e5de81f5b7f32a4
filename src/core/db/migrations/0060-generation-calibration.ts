import type { Database } from 'better-sqlite3'

/**
 * A generation's class test, per class: the confidence bar calibrated on held-out real images and
 * the held-out accuracy behind it (JSON, ClassCalibration[]; NULL for generations made before).
 */
export function migrate0060(db: Database): void {
  db.exec('ALTER TABLE generations ADD COLUMN calibration TEXT')
}
