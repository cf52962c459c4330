import type { SqlExecutor } from '../sql-driver';
import { num, str } from './row-values';

/** Where each key leases from and whether it is established (docs/PROTOCOL.md, "Who checks whom"). */
export class MinerTrustRows {
  constructor(private readonly ex: SqlExecutor) {}

  /** Records the address a key leases from (a seed key also becomes established); returns whether it is established. */
  async recordOrigin(miner: string, remoteAddress: string | null, establish: boolean): Promise<boolean> {
    await this.ex.run(
      `INSERT INTO miner_trust (miner, remote_address, established) VALUES (?, ?, ?)
       ON CONFLICT (miner) DO UPDATE SET remote_address = COALESCE(excluded.remote_address, miner_trust.remote_address),
         established = CASE WHEN excluded.established = 1 THEN 1 ELSE miner_trust.established END`,
      [miner, remoteAddress, establish ? 1 : 0],
    );
    const rows = await this.ex.all('SELECT established FROM miner_trust WHERE miner = ?', [miner]);
    return num(rows[0]!.established) === 1;
  }

  async setEstablished(miner: string, established: boolean): Promise<void> {
    await this.ex.run(
      `INSERT INTO miner_trust (miner, remote_address, established) VALUES (?, NULL, ?)
       ON CONFLICT (miner) DO UPDATE SET established = excluded.established`,
      [miner, established ? 1 : 0],
    );
  }

  async establishedAmong(miners: string[]): Promise<Set<string>> {
    if (miners.length === 0) return new Set();
    const rows = await this.ex.all(
      `SELECT miner FROM miner_trust WHERE established = 1 AND miner IN (${miners.map(() => '?').join(', ')})`,
      miners,
    );
    return new Set(rows.map((r) => str(r.miner)));
  }
}
