import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
import { DataKeys } from '../booking/sealed.js';
import { rekeyPhones } from '../booking/rekey.js';

const USAGE = `usage: npm run rekey

Re-seals every encrypted phone (bookings, waitlist entries) under the current EDUMAP_DATA_KEY, reading
older boxes with the keys of EDUMAP_DATA_KEY_OLD (comma-separated). Rotation: make a new key, start the
servers with EDUMAP_DATA_KEY=<new> and EDUMAP_DATA_KEY_OLD=<old>, run this once, then drop the old key.
Exit 0: all boxes are under the current key; 1: some could be opened by no key given (listed by count).`;

/** The rekey CLI. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length) {
    console.log(USAGE);
    return argv.includes('--help') ? 0 : 2;
  }
  const config = loadConfig(process.env);
  const db = await openStore(config.dbPath);
  try {
    const { resealed, unreadable } = await rekeyPhones(db, new DataKeys(config.dataKey, config.dataKeysOld));
    console.log(`${resealed} phones re-sealed under key ${new DataKeys(config.dataKey).currentId}; ${unreadable} no given key opens`);
    return unreadable ? 1 : 0;
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
