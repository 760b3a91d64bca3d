import { invalidFields, type FieldError } from '../errors.js';
import { formatShanghai } from '../time.js';
import { dayStartOf } from '../engine/params.js';
import type { Database } from '../store/sql.js';
import { RulesStore, type RulesRow } from '../store/rules.js';
import type { Audit } from '../access/audit.js';
import type { Principal } from '../access/keys.js';
import { assertSeats } from '../access/scope.js';
import type { Directory } from './directory.js';

/** A resource's booking rules as the domain applies them (DESIGN, "Beijing booking rules"). */
export interface VenueRules {
  /** Whether the venue stored rules of its own (else the service's defaults, `NO_RULES`, apply). */
  stored: boolean;
  /** A slot on day D is released at `releaseMinute` (Asia/Shanghai) of day D − windowDays. */
  windowDays: number;
  /** Minutes after midnight. */
  releaseMinute: number;
  realName: boolean;
  /** People one contact phone may book per resource and day (individual bookings); null: no cap. */
  perContactDaily: number | null;
  /** Bookings can be cancelled until this many hours before their slot; waitlist entries expire then. */
  cancelCutoffHours: number;
  /** Group size the venue accepts (besides the slot's own range); null: the slot's range alone. */
  group: { min: number | null; max: number | null; orgCodeRequired: boolean; batchesPerDay: number | null };
  /** `limit` no-shows whose slots ended within `withinDays` ban a visitor or phone for `banDays`; null: not counted. */
  noShow: { limit: number; withinDays: number; banDays: number } | null;
  updatedAt: string | null;
}

/** The rules as `PUT …/booking-rules` takes them; every field optional (see `PUT_DEFAULTS`). */
export interface RulesInput {
  window_days?: number;
  release_time?: string;
  real_name?: boolean;
  per_contact_daily?: number | null;
  cancel_cutoff_hours?: number | null;
  group?: { min?: number; max?: number; org_code_required?: boolean; batches_per_day?: number | null };
  no_show?: { limit?: number; within_days?: number; ban_days?: number } | null;
}

/**
 * The rules of a resource without rules of its own: today's behaviour (no real name, no caps, the slot's
 * group size, no no-shows counted) plus a 7-day window released at midnight, so existing data keeps working.
 */
export function noRules(cancelCutoffHours: number): VenueRules {
  return {
    stored: false, windowDays: 7, releaseMinute: 0, realName: false, perContactDaily: null, cancelCutoffHours,
    group: { min: null, max: null, orgCodeRequired: false, batchesPerDay: null }, noShow: null, updatedAt: null,
  };
}

/** What a field left out of a PUT takes: the contract's values (国博's rules). */
export const PUT_DEFAULTS = {
  window_days: 7, release_time: '17:00', real_name: false, per_contact_daily: 5,
  group: { min: 15, max: 200, org_code_required: true, batches_per_day: null },
  no_show: { limit: 3, within_days: 90, ban_days: 30 },
} as const;

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** When a slot starting at `startMs` opens for booking, in epoch ms. */
export function opensAt(rules: Pick<VenueRules, 'windowDays' | 'releaseMinute'>, startMs: number): number {
  return dayStartOf(startMs) - rules.windowDays * DAY_MS + rules.releaseMinute * MINUTE_MS;
}

/** Slots starting before this instant are released at `nowMs` (the inverse of `opensAt`), in epoch ms. */
export function releasedBefore(rules: Pick<VenueRules, 'windowDays' | 'releaseMinute'>, nowMs: number): number {
  return dayStartOf(nowMs + rules.windowDays * DAY_MS - rules.releaseMinute * MINUTE_MS) + DAY_MS;
}

/** The largest individual party these rules let one booking have. */
export function maxIndividual(rules: VenueRules, ceiling: number): number {
  return Math.min(ceiling, rules.perContactDaily ?? ceiling);
}

/** Validates a PUT body (shape checked by the contract) into a row; a 400 naming each bad field. */
export function rulesRow(resourceId: string, input: RulesInput, at: string): RulesRow {
  const errors: FieldError[] = [];
  const release = input.release_time ?? PUT_DEFAULTS.release_time;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(release);
  if (!m) errors.push({ path: 'body.release_time', message: 'must be a time of day such as 17:00 (Asia/Shanghai)' });
  const group = { ...PUT_DEFAULTS.group, ...(input.group ?? {}) };
  if (group.min > group.max) errors.push({ path: 'body.group.min', message: 'must not exceed group.max' });
  const noShow = input.no_show === null ? null : { ...PUT_DEFAULTS.no_show, ...(input.no_show ?? {}) };
  if (errors.length) throw invalidFields(errors);
  return {
    resource_id: resourceId, window_days: input.window_days ?? PUT_DEFAULTS.window_days,
    release_minute: Number(m![1]) * 60 + Number(m![2]), real_name: (input.real_name ?? PUT_DEFAULTS.real_name) ? 1 : 0,
    per_contact_daily: input.per_contact_daily === undefined ? PUT_DEFAULTS.per_contact_daily : input.per_contact_daily,
    cancel_cutoff_hours: input.cancel_cutoff_hours ?? null, group_min: group.min, group_max: group.max,
    org_code_required: group.org_code_required ? 1 : 0, batches_per_day: group.batches_per_day ?? null,
    no_show_limit: noShow?.limit ?? null, no_show_within_days: noShow?.within_days ?? null, ban_days: noShow?.ban_days ?? null,
    updated_at: at,
  };
}

function rulesOf(row: RulesRow, cutoffDefault: number): VenueRules {
  return {
    stored: true, windowDays: row.window_days, releaseMinute: row.release_minute, realName: row.real_name === 1,
    perContactDaily: row.per_contact_daily, cancelCutoffHours: row.cancel_cutoff_hours ?? cutoffDefault,
    group: { min: row.group_min, max: row.group_max, orgCodeRequired: row.org_code_required === 1, batchesPerDay: row.batches_per_day },
    noShow: row.no_show_limit === null ? null : { limit: row.no_show_limit, withinDays: row.no_show_within_days!, banDays: row.ban_days! },
    updatedAt: row.updated_at,
  };
}

/** Rules as `GET …/booking-rules` answers them. */
export function rulesJson(resourceId: string, r: VenueRules): Record<string, unknown> {
  const minutes = (n: number) => `${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`;
  return {
    resource_id: resourceId, stored: r.stored, window_days: r.windowDays, release_time: minutes(r.releaseMinute), real_name: r.realName,
    per_contact_daily: r.perContactDaily, cancel_cutoff_hours: r.cancelCutoffHours,
    group: { min: r.group.min, max: r.group.max, org_code_required: r.group.orgCodeRequired, batches_per_day: r.group.batchesPerDay },
    no_show: r.noShow && { limit: r.noShow.limit, within_days: r.noShow.withinDays, ban_days: r.noShow.banDays }, updated_at: r.updatedAt,
  };
}

/**
 * Every resource's rules, as stored, kept in memory and read again whenever the rules counter moved (one
 * lookup per call, so a rule written by any process holds from the next booking on).
 */
export class RuleBook {
  readonly store: RulesStore;
  private seq = -1;
  private byResource = new Map<string, VenueRules>();
  private loading: Promise<void> | undefined;

  constructor(private readonly db: Database, private readonly deps: { directory: Directory; audit: Audit; cancelCutoffHours: number; clock: () => number }) {
    this.store = new RulesStore(db);
  }

  /** The rules that apply at a resource now. */
  async of(resourceId: string): Promise<VenueRules> {
    await this.refresh();
    return this.current(resourceId);
  }

  /** The rules of a resource as of the last refresh (no I/O: for the availability index's scan). */
  current(resourceId: string): VenueRules {
    return this.byResource.get(resourceId) ?? noRules(this.deps.cancelCutoffHours);
  }

  /** The stored rules by resource, as of the last refresh. */
  get stored(): ReadonlyMap<string, VenueRules> {
    return this.byResource;
  }

  /** Reads the rules again when the counter moved. */
  async refresh(): Promise<void> {
    const last = await this.store.lastChange();
    // A load already under way may have read the rows before `last`: then load again after it.
    while (this.seq < last) {
      this.loading ??= (async () => {
        const seq = await this.store.lastChange();
        const rows = await this.store.all();
        this.byResource = new Map(rows.map((r) => [r.resource_id, rulesOf(r, this.deps.cancelCutoffHours)]));
        this.seq = seq;
      })().finally(() => { this.loading = undefined; });
      await this.loading;
    }
  }

  /** `PUT …/booking-rules`: replaces a resource's rules (omitted fields take `PUT_DEFAULTS`); audited. */
  async put(resourceId: string, input: RulesInput, by: Principal): Promise<Record<string, unknown>> {
    assertSeats(by, await this.deps.directory.resource(resourceId));
    const row = rulesRow(resourceId, input, formatShanghai(new Date(this.deps.clock())));
    await this.db.tx(async (t) => {
      await this.store.put(t, row);
      await this.deps.audit.record(t, by, 'booking_rules.put', resourceId, { fields: Object.keys(input) });
    });
    return rulesJson(resourceId, await this.of(resourceId));
  }

  /**
   * `GET …/booking-rules`: the rules that apply (the defaults, `stored: false`, when the venue has none).
   * Public — a family reads them before booking; with a key (`by`), only a key that runs the resource's seats.
   */
  async get(resourceId: string, by?: Principal): Promise<Record<string, unknown>> {
    const resource = await this.deps.directory.resource(resourceId);
    if (by) assertSeats(by, resource);
    return rulesJson(resourceId, await this.of(resourceId));
  }
}
