// jest globalTeardown of the PostgreSQL run: stops the cluster that globalSetup started, by its PID.
import { stopCluster } from './cluster.mjs';

export default async function teardown() {
  const cluster = globalThis.__EDUMAP_PG__;
  if (cluster) await stopCluster(cluster);
}
