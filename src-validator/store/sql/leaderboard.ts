import type { SqlExecutor, SqlRow, SqlValue } from '../sql-driver';
import type { LeaderboardEntry } from '../store';
import { num, str, strOrNull } from './row-values';

/** The open board of an epoch, one row per miner with validated tokens (within a GPU class when given). */
function boardOf(epoch: number, gpuClass: string | null): { sql: string; params: SqlValue[] } {
  return {
    sql: `SELECT m.address, m.name, m.gpu_class, SUM(c.tokens) AS tokens FROM credits c JOIN miners m ON m.address = c.miner
          WHERE c.epoch = ?${gpuClass === null ? '' : ' AND m.gpu_class = ?'} GROUP BY m.address, m.name, m.gpu_class HAVING SUM(c.tokens) > 0`,
    params: gpuClass === null ? [epoch] : [epoch, gpuClass],
  };
}

function leaderboardEntry(r: SqlRow): LeaderboardEntry {
  return { address: str(r.address), name: str(r.name), gpuClass: strOrNull(r.gpu_class), tokens: num(r.tokens) };
}

/** An epoch's miners ranked by their credited tokens. */
export class LeaderboardReads {
  constructor(private readonly ex: SqlExecutor) {}

  async leaderboard(
    epoch: number,
    opts: { offset: number; limit: number; gpuClass: string | null },
  ): Promise<{ total: number; rows: LeaderboardEntry[] }> {
    const { sql, params } = boardOf(epoch, opts.gpuClass);
    const total = await this.ex.all(`WITH board AS (${sql}) SELECT COUNT(*) AS n FROM board`, params);
    const rows = await this.ex.all(`${sql} ORDER BY tokens DESC, m.address LIMIT ? OFFSET ?`, [...params, opts.limit, opts.offset]);
    return { total: num(total[0]!.n), rows: rows.map(leaderboardEntry) };
  }

  async leaderboardRank(
    epoch: number,
    address: string,
    gpuClass: string | null,
  ): Promise<{ rank: number; entry: LeaderboardEntry } | null> {
    const { sql, params } = boardOf(epoch, gpuClass);
    // Ranked by the same order as a page of the board: tokens, then address.
    const rows = await this.ex.all(
      `WITH board AS (${sql})
       SELECT b.*, (SELECT COUNT(*) FROM board o WHERE o.tokens > b.tokens OR (o.tokens = b.tokens AND o.address < b.address)) + 1 AS rank
       FROM board b WHERE b.address = ?`,
      [...params, address],
    );
    return rows[0] ? { rank: num(rows[0].rank), entry: leaderboardEntry(rows[0]) } : null;
  }
}
