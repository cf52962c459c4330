import type { SqlExecutor } from '../sql-driver';
import type { LeaseStanding, OpenLeases } from '../store';
import { num } from './row-values';

/** A key as a leaseholder: its expiry strikes and cool-down, what it holds open, what it delivered. */
export class LeaseStandingRows {
  constructor(private readonly ex: SqlExecutor) {}

  async leaseStandingForUpdate(miner: string): Promise<LeaseStanding> {
    const rows = await this.ex.all('SELECT strikes, cool_down_until_ms FROM lease_standing WHERE miner = ? {lock}', [miner]);
    const r = rows[0];
    return r ? { strikes: num(r.strikes), coolDownUntilMs: num(r.cool_down_until_ms) } : { strikes: 0, coolDownUntilMs: 0 };
  }

  async setLeaseStanding(miner: string, standing: LeaseStanding): Promise<void> {
    await this.ex.run(
      `INSERT INTO lease_standing (miner, strikes, cool_down_until_ms) VALUES (?, ?, ?)
       ON CONFLICT (miner) DO UPDATE SET strikes = excluded.strikes, cool_down_until_ms = excluded.cool_down_until_ms`,
      [miner, standing.strikes, standing.coolDownUntilMs],
    );
  }

  async forgiveLeaseStrike(miner: string): Promise<void> {
    await this.ex.run('UPDATE lease_standing SET strikes = strikes - 1 WHERE miner = ? AND strikes > 0', [miner]);
  }

  async openLeases(miner: string): Promise<OpenLeases> {
    const rows = await this.ex.all(
      `SELECT COUNT(*) AS n, COALESCE(SUM(t.tokens), 0) AS tokens FROM leases l JOIN tasks t ON t.task_id = l.task_id
       WHERE l.miner = ? AND l.state = 'active'`,
      [miner],
    );
    return { count: num(rows[0]!.n), tokens: num(rows[0]!.tokens) };
  }

  async deliveredTokensSince(miner: string, sinceMs: number): Promise<number> {
    const rows = await this.ex.all(
      `SELECT COALESCE(SUM(tokens), 0) AS tokens FROM results WHERE miner = ? AND submitted_at_ms >= ? AND status <> 'rejected'`,
      [miner, sinceMs],
    );
    return num(rows[0]!.tokens);
  }
}
