import type { Database } from '../store/sql.js';
import { BookingStore } from '../store/bookings.js';
import { WaitlistStore } from '../store/waitlist.js';
import type { DataKeys } from './sealed.js';

const BATCH = 500;

/**
 * Re-seals every phone box (bookings and waitlist entries) that is not under the current data key, in
 * batches of conditional UPDATEs (a row changed meanwhile is left alone; running it again is harmless).
 * Boxes no known key opens are counted, not touched. Returns the counts.
 */
export async function rekeyPhones(db: Database, keys: DataKeys): Promise<{ resealed: number; unreadable: number }> {
  const bookings = new BookingStore(db);
  const waitlist = new WaitlistStore(db);
  let resealed = 0;
  let unreadable = 0;
  for (let after = ''; ;) {
    const rows = await bookings.sealedUnder(keys.currentId, after, BATCH);
    if (!rows.length) break;
    after = rows[rows.length - 1].id;
    await db.tx(async (t) => {
      for (const r of rows) {
        const phone = keys.open(r.phone_box, r.id);
        if (phone === undefined) unreadable++;
        else if (await bookings.reseal(t, r.id, r.phone_key, keys.seal(phone, r.id), keys.currentId)) resealed++;
      }
    });
  }
  for (let after = 0; ;) {
    const rows = await waitlist.sealedUnder(keys.currentId, after, BATCH);
    if (!rows.length) break;
    after = rows[rows.length - 1].seq;
    await db.tx(async (t) => {
      for (const r of rows) {
        const phone = keys.open(r.phone_box, r.id);
        if (phone === undefined) unreadable++;
        else if (await waitlist.reseal(t, r.id, r.phone_key, keys.seal(phone, r.id), keys.currentId)) resealed++;
      }
    });
  }
  return { resealed, unreadable };
}
