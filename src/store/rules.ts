import type { Sql, Tx } from './sql.js';

/** A stored row of `booking_rules` (booleans as 0/1). */
export interface RulesRow {
  resource_id: string;
  window_days: number;
  release_minute: number;
  real_name: number;
  per_contact_daily: number | null;
  cancel_cutoff_hours: number | null;
  group_min: number;
  group_max: number;
  org_code_required: number;
  batches_per_day: number | null;
  no_show_limit: number | null;
  no_show_within_days: number | null;
  ban_days: number | null;
  updated_at: string;
}

const COLUMNS = `resource_id, window_days, release_minute, real_name, per_contact_daily, cancel_cutoff_hours, group_min,
  group_max, org_code_required, batches_per_day, no_show_limit, no_show_within_days, ban_days, updated_at`;

/** The `booking_rules` table and its change counter (`meta.rules_seq`). */
export class RulesStore {
  constructor(private readonly db: Sql) {}

  /** The counter every change of the table moves. */
  async lastChange(): Promise<number> {
    return Number((await this.db.value<string>("SELECT value FROM meta WHERE key = 'rules_seq'")) ?? 0);
  }

  /** Every stored row (venues with rules of their own are few). */
  async all(): Promise<RulesRow[]> {
    return this.db.all<RulesRow>(`SELECT ${COLUMNS} FROM booking_rules`);
  }

  /** Inserts or replaces a resource's rules and moves the counter. */
  async put(t: Tx, row: RulesRow): Promise<void> {
    const values = [row.resource_id, row.window_days, row.release_minute, row.real_name, row.per_contact_daily, row.cancel_cutoff_hours,
      row.group_min, row.group_max, row.org_code_required, row.batches_per_day, row.no_show_limit, row.no_show_within_days, row.ban_days, row.updated_at];
    await t.run(`INSERT INTO booking_rules (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (resource_id) DO UPDATE SET window_days = excluded.window_days, release_minute = excluded.release_minute,
        real_name = excluded.real_name, per_contact_daily = excluded.per_contact_daily, cancel_cutoff_hours = excluded.cancel_cutoff_hours,
        group_min = excluded.group_min, group_max = excluded.group_max, org_code_required = excluded.org_code_required,
        batches_per_day = excluded.batches_per_day, no_show_limit = excluded.no_show_limit,
        no_show_within_days = excluded.no_show_within_days, ban_days = excluded.ban_days, updated_at = excluded.updated_at`, values);
    await t.run("INSERT INTO meta (key, value) VALUES ('rules_seq', '0') ON CONFLICT (key) DO NOTHING");
    await t.run("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'rules_seq'");
  }
}
