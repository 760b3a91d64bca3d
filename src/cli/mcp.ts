import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { loadConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { openService } from '../service.js';
import { StoreUnavailable } from '../store/sql.js';
import { Budget, ClientKeys, ConflictBudget } from '../http/guards.js';
import { buildCatalogue } from '../mcp/catalogue.js';
import { bookingRefusal } from '../mcp/access.js';
import { createMcpServer } from '../mcp/server.js';

/**
 * `npm run mcp`: the MCP server on stdin/stdout for an assistant that starts it as a local process, over
 * the database of `EDUMAP_DB` as `src/server.ts` opens it (seeded with the bundled data when empty).
 * stdout carries the protocol only: logs go to stderr, and so does anything a library prints.
 * The one client is the local user: one rate-limit bucket (`stdio`), trusted to book unless
 * `EDUMAP_MCP_BOOKING=off`.
 */
async function main(): Promise<void> {
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  const config = loadConfig();
  const log = createLogger(config, process.stderr);
  if (config.devSecrets) log.warn('EDUMAP_HASH_KEY / EDUMAP_DATA_KEY are not set: development keys are in use (never in production)');
  const service = await openService(config, log);
  service.follow(config.pollMs, (err) => log.warn({ err }, 'keeping up with other processes\' writes failed; retrying'));
  // No HTTP request ever reaches these keys: the stdio client is one bucket.
  const nobody = new ClientKeys(async () => false);
  const limits = {
    budgets: { search: new Budget(config.searchPerMinute, 'search', nobody), booking: new Budget(config.bookingPerMinute, 'booking', nobody) },
    conflicts: new ConflictBudget(config.visitorConflictsPerHour),
  };
  const refusal = await bookingRefusal(config.mcpBooking, { stdio: true }, service.keys);
  const server = createMcpServer(service, buildCatalogue(service.contract), limits, { bucket: 'stdio', address: 'stdio', refusal });

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'MCP server stopping');
    await server.close();
    await service.close();
    process.exit(0);
  };
  // The client ends the session by closing our stdin (or by a signal).
  process.stdin.once('end', () => void stop('stdin closed'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  await server.connect(new StdioServerTransport());
  log.info({ db: config.dbPath, booking: config.mcpBooking }, 'edumap MCP server on stdio');
}

main().catch((err: unknown) => {
  const plain = err instanceof StoreUnavailable || err instanceof ConfigError;
  console.error(plain ? `edumap: ${(err as Error).message}` : err);
  process.exit(1);
});
