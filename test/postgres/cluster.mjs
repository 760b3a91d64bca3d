// A throwaway PostgreSQL cluster for the tests: initdb into a temp directory (as the `postgres` user when we
// are root: the server refuses to run as root), a free loopback port, tuned for tests (no fsync), stopped by
// its PID. Plain JavaScript, so that jest's globalSetup and a shell can both load it without a transform.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INSTALL_HINT = 'PostgreSQL is not installed, and the PostgreSQL half of `npm test` needs it. '
  + 'Install it with: apt-get install -y postgresql (Debian/Ubuntu), then run npm test again.';

/** Longest wait for one of initdb, pg_ctl start, createdb, in ms: nothing here may hang a test run. */
const STEP_TIMEOUT_MS = 120_000;

/** The directory of PostgreSQL's server programs: `pg_ctl` on PATH, else Debian's newest /usr/lib/postgresql/N/bin. */
export function serverBin() {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb'))) return dir;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin');
  throw new Error(INSTALL_HINT);
}

/** Runs a server program, as `postgres` when we are root; throws with its output when it fails. */
function run(bin, program, args) {
  const root = process.getuid?.() === 0;
  const [command, argv] = root ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
  const out = spawnSync(command, argv, { encoding: 'utf8', timeout: STEP_TIMEOUT_MS, cwd: tmpdir() });
  if (out.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${out.error?.message ?? `exit ${out.status}`}):\n${out.stdout}\n${out.stderr}`);
  return out.stdout;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster: `{ url, pid, dir }`, `url` naming the `postgres` database of the superuser `postgres`
 * (trust authentication on 127.0.0.1 only). `stopCluster` ends it.
 */
export async function startCluster() {
  const bin = serverBin();
  const dir = mkdtempSync(join(tmpdir(), 'edumap-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`there is no 'postgres' user to run the server as. ${INSTALL_HINT}`);
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  run(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const settings = [
      `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', '-c synchronous_commit=off',
      '-c full_page_writes=off', '-c max_connections=400', '-c shared_buffers=128MB', '-c max_wal_size=1GB',
      '-c log_min_messages=warning', '-c log_min_error_statement=panic', '-c log_lock_waits=off',
    ].join(' ');
    try {
      run(bin, 'pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', settings, 'start']);
    } catch (e) {
      if (attempt < 2 && /could not bind|Address already in use/.test(readLog(dir))) continue; // the port was taken meanwhile
      throw new Error(`${e.message}\n${readLog(dir)}`);
    }
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, pid, dir, port };
  }
}

function readLog(dir) {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

/** Stops the cluster's postmaster by its PID (fast shutdown, then SIGKILL after 15 s) and removes its directory. */
export async function stopCluster({ pid, dir }) {
  await stopPostmaster(pid);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Ends a postmaster by its PID (fast shutdown, then SIGKILL after 15 s) and waits until it is gone; its data stays. */
export async function stopPostmaster(pid) {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (pid && alive()) {
    process.kill(pid, 'SIGINT'); // fast shutdown: connections are ended, committed work is on disk
    for (const deadline = Date.now() + 15_000; alive() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
    if (alive()) process.kill(pid, 'SIGKILL');
    for (const deadline = Date.now() + 5_000; alive() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
  }
}

/** `pg_ctl stop` and `start` again on the same port and data (a test of a server that goes away and comes back). */
export function restartParts({ dir, port }) {
  const bin = serverBin();
  const data = join(dir, 'data');
  return {
    stop: () => run(bin, 'pg_ctl', ['-D', data, '-w', '-t', '60', '-m', 'fast', 'stop']),
    start: () => run(bin, 'pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400`, 'start']),
    pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
  };
}
