/** A running throwaway cluster (see cluster.mjs). */
export interface Cluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, loopback only). */
  url: string;
  pid: number;
  dir: string;
  port: number;
}
export const INSTALL_HINT: string;
export function serverBin(): string;
export function startCluster(): Promise<Cluster>;
export function stopCluster(cluster: Pick<Cluster, 'pid' | 'dir'>): Promise<void>;
export function stopPostmaster(pid: number): Promise<void>;
export function restartParts(cluster: Pick<Cluster, 'dir' | 'port'>): { stop(): void; start(): void; pid(): number };
