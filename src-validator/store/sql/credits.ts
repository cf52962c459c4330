import type { SqlExecutor } from '../sql-driver';
import type { CreditRow, MinerEpochTokens } from '../store';
import { num, placeholders, str } from './row-values';

/** Validated tokens credited per miner, epoch and hour, and which epochs' weights were published. */
export class CreditRows {
  constructor(private readonly ex: SqlExecutor) {}

  async addCredit(c: CreditRow): Promise<void> {
    await this.ex.run(
      `INSERT INTO credits (miner, epoch, hour_start_ms, tokens) VALUES (?, ?, ?, ?)
       ON CONFLICT (miner, epoch, hour_start_ms) DO UPDATE SET tokens = credits.tokens + excluded.tokens`,
      [c.miner, c.epoch, c.hourStartMs, c.tokens],
    );
  }

  async epochTokens(epochs: number[], miner: string | null): Promise<MinerEpochTokens[]> {
    if (epochs.length === 0) return [];
    const minerClause = miner === null ? '' : ' AND miner = ?';
    const rows = await this.ex.all(
      `SELECT miner, epoch, SUM(tokens) AS tokens FROM credits WHERE epoch IN (${placeholders(epochs)})${minerClause} GROUP BY miner, epoch`,
      miner === null ? epochs : [...epochs, miner],
    );
    return rows.map((r) => ({ miner: str(r.miner), epoch: num(r.epoch), tokens: num(r.tokens) }));
  }

  async epochTotals(epochs: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (epochs.length === 0) return out;
    const rows = await this.ex.all(
      `SELECT epoch, SUM(tokens) AS tokens FROM credits WHERE epoch IN (${placeholders(epochs)}) GROUP BY epoch`,
      epochs,
    );
    for (const r of rows) out.set(num(r.epoch), num(r.tokens));
    return out;
  }

  async minerEpochs(miner: string): Promise<number[]> {
    return (await this.ex.all('SELECT DISTINCT epoch FROM credits WHERE miner = ? ORDER BY epoch', [miner])).map((r) => num(r.epoch));
  }

  async hourlyCredits(miner: string, sinceMs: number): Promise<CreditRow[]> {
    const rows = await this.ex.all(
      'SELECT miner, epoch, hour_start_ms, tokens FROM credits WHERE miner = ? AND hour_start_ms >= ? ORDER BY hour_start_ms, epoch',
      [miner, sinceMs],
    );
    return rows.map((r) => ({ miner: str(r.miner), epoch: num(r.epoch), hourStartMs: num(r.hour_start_ms), tokens: num(r.tokens) }));
  }

  async claimEpochPublication(epoch: number, nowMs: number): Promise<boolean> {
    return (
      (await this.ex.run('INSERT INTO epoch_publications (epoch, published_at_ms) VALUES (?, ?) ON CONFLICT (epoch) DO NOTHING', [
        epoch,
        nowMs,
      ])) > 0
    );
  }
}
