import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureDirectory } from './paths.js';
import { ConfigError } from './errors.js';

/** The service's two secrets, and whether they are development stand-ins. */
export interface Secrets {
  hashKey: string;
  dataKey: Buffer;
  devSecrets: boolean;
}

/** Where development keys are kept: beside the database, so its hashes stay valid across restarts. */
export const DEV_SECRETS_FILE = 'dev-secrets.json';

/**
 * The secrets from the environment: `EDUMAP_HASH_KEY` (at least 32 characters) and `EDUMAP_DATA_KEY` (32
 * bytes as 64 hexadecimal characters). Without them the service refuses to start — unless it runs in
 * development (`EDUMAP_DEV=1`) or tests (`NODE_ENV=test`), and never when `NODE_ENV=production`: then
 * random development keys are made once and kept in `dev-secrets.json` beside the database (an in-memory
 * database gets keys for this process only). Throws one line naming the variable.
 */
export function secrets(env: NodeJS.ProcessEnv, dbPath: string): Secrets {
  const hash = env.EDUMAP_HASH_KEY;
  const data = env.EDUMAP_DATA_KEY;
  if (hash !== undefined && hash !== '' && hash.length < 32) {
    throw new ConfigError('EDUMAP_HASH_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  }
  if (data !== undefined && data !== '' && !/^[0-9a-fA-F]{64}$/.test(data)) {
    throw new ConfigError('EDUMAP_DATA_KEY must be 32 bytes written as 64 hexadecimal characters (e.g. `openssl rand -hex 32`)');
  }
  if (hash && data) return { hashKey: hash, dataKey: Buffer.from(data, 'hex'), devSecrets: false };

  const missing = [!hash && 'EDUMAP_HASH_KEY', !data && 'EDUMAP_DATA_KEY'].filter(Boolean).join(' and ');
  const production = env.NODE_ENV === 'production';
  const dev = !production && (env.EDUMAP_DEV === '1' || env.NODE_ENV === 'test');
  if (!dev) {
    throw new ConfigError(`${missing} ${missing.includes(' and ') ? 'are' : 'is'} not set: set ${missing.includes(' and ') ? 'them' : 'it'} ` +
      '(openssl rand -base64 32; openssl rand -hex 32), or run with EDUMAP_DEV=1 for development keys' +
      (production ? ' (never with NODE_ENV=production)' : ''));
  }
  const stored = devKeys(dbPath);
  return {
    hashKey: hash || stored.hashKey,
    dataKey: data ? Buffer.from(data, 'hex') : stored.dataKey,
    devSecrets: true,
  };
}

/** The development keys kept beside the database, made on first use. */
function devKeys(dbPath: string): Omit<Secrets, 'devSecrets'> {
  const fresh = () => ({ hashKey: randomBytes(32).toString('base64'), dataKey: randomBytes(32).toString('hex') });
  if (dbPath === ':memory:') {
    const keys = fresh();
    return { hashKey: keys.hashKey, dataKey: Buffer.from(keys.dataKey, 'hex') };
  }
  const file = join(dirname(dbPath), DEV_SECRETS_FILE);
  let keys: { hashKey: string; dataKey: string } | undefined;
  if (existsSync(file)) keys = JSON.parse(readFileSync(file, 'utf8')) as { hashKey: string; dataKey: string };
  if (!keys) {
    keys = fresh();
    try {
      ensureDirectory(dirname(file));
      writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another process wrote it first (two workers starting together): use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(`cannot keep development keys in ${file}: ${(e as Error).message}`, { cause: e });
      keys = JSON.parse(readFileSync(file, 'utf8')) as { hashKey: string; dataKey: string };
    }
  }
  return { hashKey: keys.hashKey, dataKey: Buffer.from(keys.dataKey, 'hex') };
}

/** Keys for a process that never uses them (an import CLI), so that no real or stored key is needed. */
export function throwawaySecrets(): Secrets {
  return { hashKey: randomBytes(32).toString('base64'), dataKey: randomBytes(32), devSecrets: true };
}
