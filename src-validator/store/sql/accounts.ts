import type { SqlExecutor, SqlRow, SqlValue } from '../sql-driver';
import type { ChallengeRow, MinerRow } from '../store';
import { num, str, strOrNull } from './row-values';

function minerRow(r: SqlRow): MinerRow {
  return {
    address: str(r.address),
    name: str(r.name),
    gpuClass: strOrNull(r.gpu_class),
    streak: num(r.streak),
    validatedTokens: num(r.validated_tokens),
    rejectedTokens: num(r.rejected_tokens),
    payoutAddress: strOrNull(r.payout_address),
    createdAtMs: num(r.created_at_ms),
  };
}

/** Miners: who they are, their running counters and where they are paid. */
export class MinerRows {
  constructor(private readonly ex: SqlExecutor) {}

  async upsertMiner(address: string, seen: { name?: string; gpuClass?: string; nowMs: number }): Promise<MinerRow> {
    await this.ex.run(
      `INSERT INTO miners (address, name, gpu_class, created_at_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET last_seen_ms = excluded.last_seen_ms,
         name = COALESCE(CAST(? AS TEXT), miners.name), gpu_class = COALESCE(CAST(? AS TEXT), miners.gpu_class)`,
      [address, seen.name ?? address.slice(0, 8), seen.gpuClass ?? null, seen.nowMs, seen.nowMs, seen.name ?? null, seen.gpuClass ?? null],
    );
    return (await this.minerForUpdate(address))!;
  }

  async minerForUpdate(address: string): Promise<MinerRow | null> {
    const rows = await this.ex.all('SELECT * FROM miners WHERE address = ? {lock}', [address]);
    return rows[0] ? minerRow(rows[0]) : null;
  }

  async miner(address: string): Promise<MinerRow | null> {
    const rows = await this.ex.all('SELECT * FROM miners WHERE address = ?', [address]);
    return rows[0] ? minerRow(rows[0]) : null;
  }

  async updateMinerCounters(
    address: string,
    d: { streak: number | 'reset'; validatedTokens: number; rejectedTokens: number },
  ): Promise<void> {
    const streak = d.streak === 'reset' ? 'streak = 0' : 'streak = streak + ?';
    const params: SqlValue[] = d.streak === 'reset' ? [] : [d.streak];
    await this.ex.run(
      `UPDATE miners SET ${streak}, validated_tokens = validated_tokens + ?, rejected_tokens = rejected_tokens + ? WHERE address = ?`,
      [...params, d.validatedTokens, d.rejectedTokens, address],
    );
  }

  async totalValidatedTokens(): Promise<number> {
    return num((await this.ex.all('SELECT COALESCE(SUM(validated_tokens), 0) AS n FROM miners'))[0]!.n);
  }

  async setPayoutAddress(miner: string, payoutAddress: string): Promise<void> {
    await this.ex.run('UPDATE miners SET payout_address = ? WHERE address = ?', [payoutAddress, miner]);
  }
}

/** One-time values a miner spends: request nonces (replay protection) and payout challenges. */
export class MinerTokenRows {
  constructor(private readonly ex: SqlExecutor) {}

  async claimNonce(address: string, nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    // An expired row for the same nonce is reusable (its timestamp could no longer verify anyway).
    const changed = await this.ex.run(
      `INSERT INTO nonces (address, nonce, expires_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (address, nonce) DO UPDATE SET expires_at_ms = excluded.expires_at_ms WHERE nonces.expires_at_ms < ?`,
      [address, nonce, expiresAtMs, nowMs],
    );
    return changed > 0;
  }

  pruneNonces(nowMs: number): Promise<number> {
    return this.ex.run('DELETE FROM nonces WHERE expires_at_ms < ?', [nowMs]);
  }

  async insertChallenge(row: ChallengeRow): Promise<void> {
    await this.ex.run('INSERT INTO payout_challenges (challenge_id, miner, expires_at_ms, used) VALUES (?, ?, ?, 0)', [
      row.challengeId,
      row.miner,
      row.expiresAtMs,
    ]);
  }

  async challengeForUpdate(challengeId: string): Promise<ChallengeRow | null> {
    const rows = await this.ex.all('SELECT * FROM payout_challenges WHERE challenge_id = ? {lock}', [challengeId]);
    const r = rows[0];
    return r ? { challengeId: str(r.challenge_id), miner: str(r.miner), expiresAtMs: num(r.expires_at_ms), used: num(r.used) === 1 } : null;
  }

  async markChallengeUsed(challengeId: string): Promise<void> {
    await this.ex.run('UPDATE payout_challenges SET used = 1 WHERE challenge_id = ?', [challengeId]);
  }
}
