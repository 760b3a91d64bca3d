import type { Sql } from './sql.js';

/** A stored year: the file as loaded (JSON text) and when. Decoding it is the engine's. */
export interface CalendarYearRow {
  year: number;
  file: string;
  loaded_at: string;
}

/** The `calendar_years` table: the years of China's calendar that operators loaded (`npm run calendar -- import`). */
export class CalendarStore {
  constructor(private readonly db: Sql) {}

  /**
   * Stores a year's file, replacing the one stored for that year; pass the write batch's transaction as
   * `t` (which also bumps the data generation). Returns true when a stored file was replaced.
   */
  async save(t: Sql, year: number, file: string, loadedAt: string): Promise<boolean> {
    const replaced = (await t.value('SELECT 1 FROM calendar_years WHERE year = ?', [year])) !== undefined;
    await t.run(`INSERT INTO calendar_years (year, file, loaded_at) VALUES (?, ?, ?)
      ON CONFLICT (year) DO UPDATE SET file = excluded.file, loaded_at = excluded.loaded_at`, [year, file, loadedAt]);
    return replaced;
  }

  /** Every stored year, in year order. */
  async list(): Promise<CalendarYearRow[]> {
    return this.db.all<CalendarYearRow>('SELECT year, file, loaded_at FROM calendar_years ORDER BY year');
  }
}
