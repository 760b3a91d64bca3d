import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
import { AreaStore } from '../store/areas.js';
import { AppError } from '../errors.js';
import { seedDistricts } from '../service.js';
import { Audit } from '../access/audit.js';
import { commandLine, KeyRing, type KeyInfo, type Role } from '../access/keys.js';

const USAGE = `usage: npm run keys -- create --role operator|district|venue [--district 110108,…] [--resource id,…] [--label TEXT]
       npm run keys -- list
       npm run keys -- revoke ID

Keys of the database named by EDUMAP_DB (default var/edumap.db), stored as hashes only. create prints the
new key once: hand it over, it cannot be shown again. list prints one line per key: id, role, scope, label,
created, revoked. revoke takes effect in every server process within a second. Every create and revoke is
in the audit log. Exit 0: done; 1: refused (the reason is printed); 2: usage error.`;

/** One key as `list` prints it: id, role, scope, label, created, revoked. */
export function keyLine(k: KeyInfo): string {
  const scope = k.role === 'district' ? k.districts.join(',') : k.role === 'venue' ? k.resources.join(',') : '*';
  return [k.id, k.role, scope, JSON.stringify(k.label), k.created_at, k.revoked_at ?? '-'].join('\t');
}

/** The keys CLI. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        role: { type: 'string' }, district: { type: 'string' }, resource: { type: 'string' }, label: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...rest] = args.positionals;
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!['create', 'list', 'revoke'].includes(command ?? '') || (command === 'revoke' ? rest.length !== 1 : rest.length !== 0)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig(process.env, {}, { secrets: 'unused' });
  const db = await openStore(config.dbPath);
  try {
    const keys = new KeyRing(db, [], new Audit(db));
    const by = commandLine('npm run keys');
    if (command === 'list') {
      for (const k of await keys.list()) console.log(keyLine(k));
      return 0;
    }
    if (command === 'revoke') {
      const done = await keys.revoke(rest[0], by);
      console.log(done ? `revoked ${rest[0]}` : `${rest[0]} was revoked already`);
      return 0;
    }
    const list = (text: string | undefined) => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    await seedDistricts(db, config.dataDir);
    const districts = new Set((await new AreaStore(db).list()).filter((a) => a.kind === 'district').map((a) => a.id));
    const { key, info } = await keys.create({
      role: args.values.role as Role, districts: list(args.values.district), resources: list(args.values.resource), label: args.values.label,
    }, by, (adcode) => districts.has(adcode));
    console.log(key);
    console.error(`created ${keyLine(info)}\nthe key above is shown this once; it is stored only as a hash`);
    return 0;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    console.error(`refused: ${e.message}`);
    return 1;
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
