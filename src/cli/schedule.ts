import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, ROOT } from '../config.js';
import { openStore } from '../store/db.js';
import { loadTaxonomy } from '../taxonomy/taxonomy.js';
import { SnapshotHolder } from '../engine/holder.js';
import { Contract } from '../http/contract.js';
import { Bookings } from '../booking/bookings.js';
import type { Leftover, ScheduledHoliday, ScheduleInput } from '../booking/schedule.js';
import type { RulesInput } from '../booking/policy.js';
import { AppError, invalidField, invalidFields } from '../errors.js';
import { Audit } from '../access/audit.js';
import { commandLine } from '../access/keys.js';

const USAGE = `usage: npm run schedule -- FILE.json [--json]

Materialises weekly schedules into bookable slots, in the database named by EDUMAP_DB (default
var/edumap.db). FILE holds { "schedules": [ { "resource_id": "…", <the body of POST
/v1/resources/{id}/schedule> }, … ] }, e.g.

  { "schedules": [ { "resource_id": "palace-museum", "hours": "Tu-Su 08:30-16:30", "holidays": "open",
                     "slot_minutes": 120, "last_slot": "short", "days": 28, "closed_dates": ["2027-03-02"],
                     "capacity": { "individual": 300, "group": 120 }, "group_size": { "min": 15, "max": 60 } } ] }

PH in hours means China's public holidays (npm run calendar -- list; GET /v1/calendar); "holidays"
(hours | closed | open | as_weekday) overrides what hours say on those days, "last_slot" (short | extend |
drop) what becomes of the end of a stretch slot_minutes does not fill. Warnings and time left without a
slot are printed under each schedule. An entry may carry "booking_rules" (the body of PUT
/v1/resources/{id}/booking-rules), applied before its schedule; an entry with only resource_id and
booking_rules sets the rules alone.

Each schedule is applied in its own transaction, all or nothing; slots that already exist unchanged are
left alone, so the file can be re-run every week. Exit 0: all applied; 1: some refused; 2: usage error.`;

/** One schedule's outcome, as `--json` prints it. */
interface Outcome {
  resource_id: string; rules?: boolean; created?: number; unchanged?: number; leftover?: Leftover[]; holidays?: ScheduledHoliday[];
  warnings?: string[]; error?: string; errors?: { path: string; message: string }[];
}

/** The schedule CLI. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.positionals.length !== 1) {
    console.error(`give exactly one JSON file\n\n${USAGE}`);
    return 2;
  }
  let schedules: (ScheduleInput & { resource_id?: unknown; booking_rules?: unknown })[];
  try {
    const doc = JSON.parse(readFileSync(args.positionals[0], 'utf8')) as { schedules?: unknown };
    if (!Array.isArray(doc.schedules)) throw new Error('the file must hold { "schedules": [ … ] }');
    schedules = doc.schedules;
  } catch (e) {
    console.error(`cannot read '${args.positionals[0]}': ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const config = loadConfig(process.env, {}, { secrets: 'unused' });
  const db = await openStore(config.dbPath);
  try {
    const holder = new SnapshotHolder(db, loadTaxonomy(config.taxonomyDir));
    await holder.rebuild();
    const contract = new Contract(join(ROOT, 'openapi.yaml'));
    const bookings = new Bookings(db, holder, new Audit(db), { hashKey: config.hashKey, cancelCutoffHours: config.cancelCutoffHours });
    const by = commandLine('npm run schedule');
    const outcomes: Outcome[] = [];
    for (const [k, entry] of schedules.entries()) {
      const { resource_id: id, booking_rules: rules, ...body } = entry ?? {};
      const at = `schedules[${k}]`;
      try {
        if (typeof id !== 'string') throw invalidField('resource_id', 'is required');
        if (rules !== undefined) {
          // The same validation as PUT /v1/resources/{id}/booking-rules; its errors are named under booking_rules.
          try {
            const checked = contract.input('putBookingRules', { query: {}, params: { id }, body: rules });
            await bookings.rules.put(id, checked.body as RulesInput, by);
          } catch (e) {
            if (e instanceof AppError && e.errors) throw invalidFields(e.errors.map((f) => ({ ...f, path: f.path.replace(/^body/, 'body.booking_rules') })), e.code);
            throw e;
          }
          if (!Object.keys(body).length) {
            outcomes.push({ resource_id: id, rules: true, created: 0, unchanged: 0 });
            continue;
          }
        }
        // The same validation as POST /v1/resources/{id}/schedule.
        const input = contract.input('scheduleSlots', { query: {}, params: { id }, body });
        const { created, unchanged, ...report } = await bookings.schedule(id, input.body as ScheduleInput, by);
        outcomes.push({ resource_id: id, ...(rules !== undefined ? { rules: true } : {}), created: created.length, unchanged, ...report });
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        const errors = e.errors?.map((f) => ({ path: `${at}.${f.path.replace(/^(body|path)\./, '')}`, message: f.message }));
        outcomes.push({ resource_id: String(id), error: e.message, errors });
      }
    }
    if (args.values.json) console.log(JSON.stringify(outcomes));
    else {
      for (const o of outcomes) {
        console.log(o.error ? `${o.resource_id}: refused: ${o.error}`
          : `${o.resource_id}: ${o.rules ? 'booking rules set; ' : ''}${o.created} slots created, ${o.unchanged} already there`);
        for (const w of o.warnings ?? []) console.log(`  warning: ${w}`);
        for (const l of o.leftover ?? []) console.log(`  no slot: ${l.from} – ${l.to}`);
      }
    }
    return outcomes.some((o) => o.error) ? 1 : 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (err) => {
  console.error(err);
  process.exitCode = 1;
});
