import { checkAddress } from '@polkadot/util-crypto';
import {
  SS58_PREFIX,
  Ss58Address,
  type HistoryResponse,
  type LeaderboardResponse,
  type LeaderboardRow,
  type LedgerEntry,
  type LedgerResponse,
  type MeResponse,
  type WeightsResponse,
} from '../../src-shared/protocol';
import { earnedNano, epochOf, HOUR_MS, lastSettledEpoch, share, u16Weights } from '../accounting/earnings';
import type { LeaderboardEntry } from '../store/store';
import type { ValidatorContext } from './context';
import { Refusal } from './errors';

const HISTORY_WINDOW_MS = 30 * 24 * HOUR_MS;

/**
 * Earnings of one miner: settled epochs at their final share, closed ones still settling at their
 * share so far (revocable), the open one as projected so far.
 */
async function earningsOf(ctx: ValidatorContext, miner: string) {
  const epochs = await ctx.store.minerEpochs(miner);
  const openEpoch = epochOf(ctx.clock(), ctx.settings.epochMs);
  const lastSettled = lastSettledEpoch(ctx.clock(), ctx.settings.epochMs, ctx.settings.settleEpochs);
  const totals = await ctx.store.epochTotals(epochs.includes(openEpoch) ? epochs : [...epochs, openEpoch]);
  let settled = 0n;
  let settling = 0n;
  let projected = 0n;
  let oldestSettling: number | null = null;
  let openShare: number | null = null;
  for (const row of await ctx.store.epochTokens(epochs, miner)) {
    const total = totals.get(row.epoch) ?? 0;
    const nano = earnedNano(ctx.settings.epochEmissionNano, row.tokens, total);
    if (row.epoch <= lastSettled) settled += nano;
    else if (row.epoch < openEpoch) {
      settling += nano;
      if (nano > 0n) oldestSettling = Math.min(oldestSettling ?? row.epoch, row.epoch);
    } else projected += nano;
    if (row.epoch === openEpoch) openShare = share(row.tokens, total);
  }
  return { settled, settling, projected, oldestSettling, openEpoch, openShare };
}

/** When epoch `epoch`'s credit becomes final (docs/PROTOCOL.md, "Settling"). */
function settlesAtMs(ctx: ValidatorContext, epoch: number): number {
  return (epoch + 1 + ctx.settings.settleEpochs) * ctx.settings.epochMs;
}

export async function me(ctx: ValidatorContext, miner: string): Promise<MeResponse> {
  const row = await ctx.store.miner(miner);
  const e = await earningsOf(ctx, miner);
  const { epochMs } = ctx.settings;
  return {
    address: miner,
    name: row?.name ?? miner.slice(0, 8),
    validatedTokens: Math.max(0, row?.validatedTokens ?? 0),
    pendingTokens: await ctx.store.pendingTokens(miner),
    rejectedTokens: row?.rejectedTokens ?? 0,
    earnedNano: (e.settled + e.settling + e.projected).toString(),
    settledNano: e.settled.toString(),
    settlingNano: e.settling.toString(),
    projectedNano: e.projected.toString(),
    settlesAtMs: e.oldestSettling === null ? null : settlesAtMs(ctx, e.oldestSettling),
    openEpoch: {
      epoch: e.openEpoch,
      startMs: e.openEpoch * epochMs,
      endMs: (e.openEpoch + 1) * epochMs,
      emissionNano: ctx.settings.epochEmissionNano.toString(),
    },
    epochShare: e.openShare,
    streak: row?.streak ?? 0,
    payoutAddress: row?.payoutAddress ?? null,
  };
}

/** Ledger cursor: "<submittedAtMs>:<taskId>" of the last entry of the previous page. */
export async function ledger(ctx: ValidatorContext, miner: string, query: URLSearchParams): Promise<LedgerResponse> {
  const limit = clampInt(query.get('limit'), 50, 1, 200);
  const before = query.get('before');
  const [ms, ...rest] = before ? before.split(':') : [];
  const rows = await ctx.store.ledger(miner, {
    // At most 15 digits: a cursor is a millisecond time, and a larger number overflows a PostgreSQL bigint (a 500).
    beforeMs: ms && /^\d{1,15}$/.test(ms) ? Number(ms) : null,
    beforeTaskId: rest.join(':') || null,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const lastSettled = lastSettledEpoch(ctx.clock(), ctx.settings.epochMs, ctx.settings.settleEpochs);
  const epochs = [...new Set(page.map((r) => r.epoch).filter((e): e is number => e !== null))];
  const totals = await ctx.store.epochTotals(epochs);
  const openEpoch = epochOf(ctx.clock(), ctx.settings.epochMs);
  const entries: LedgerEntry[] = page.map((r) => {
    const settled = r.epoch !== null && r.epoch <= lastSettled;
    const credited =
      r.status === 'validated' && r.epoch !== null ? earnedNano(ctx.settings.epochEmissionNano, r.tokens, totals.get(r.epoch) ?? 0) : 0n;
    const credit = credited === 0n || r.epoch === null ? 'none' : settled ? 'settled' : r.epoch >= openEpoch ? 'projected' : 'settling';
    return {
      taskId: r.taskId,
      submittedAtMs: r.submittedAtMs,
      tokens: r.tokens,
      status: r.status === 'pending' ? 'submitted' : r.status === 'validated' && settled ? 'credited' : r.status,
      reason: r.reason,
      creditedNano: credited.toString(),
      credit,
      creditFinalAtMs:
        credit === 'projected' ? (r.epoch! + 1) * ctx.settings.epochMs : credit === 'settling' ? settlesAtMs(ctx, r.epoch!) : null,
    };
  });
  const last = page[page.length - 1];
  return { entries, next: rows.length > limit && last ? `${last.submittedAtMs}:${last.taskId}` : null };
}

export async function history(ctx: ValidatorContext, miner: string): Promise<HistoryResponse> {
  const credits = await ctx.store.hourlyCredits(miner, ctx.clock() - HISTORY_WINDOW_MS);
  const totals = await ctx.store.epochTotals([...new Set(credits.map((c) => c.epoch))]);
  const byHour = new Map<number, { tokens: number; nano: bigint }>();
  for (const c of credits) {
    const point = byHour.get(c.hourStartMs) ?? { tokens: 0, nano: 0n };
    point.tokens += c.tokens;
    point.nano += c.tokens > 0 ? earnedNano(ctx.settings.epochEmissionNano, c.tokens, totals.get(c.epoch) ?? 0) : 0n;
    byHour.set(c.hourStartMs, point);
  }
  return [...byHour.entries()]
    .sort(([a], [b]) => a - b)
    .map(([hourStartMs, p]) => ({ hourStartMs, validatedTokens: Math.max(0, p.tokens), earnedNano: p.nano.toString() }));
}

export async function leaderboard(ctx: ValidatorContext, query: URLSearchParams): Promise<LeaderboardResponse> {
  const page = clampInt(query.get('page'), 1, 1, 1_000_000);
  const pageSize = clampInt(query.get('pageSize'), 50, 1, 200);
  const gpuClass = query.get('gpuClass') || null;
  const address = query.get('address');
  if (address !== null) {
    const [valid, problem] = Ss58Address.safeParse(address).success ? checkAddress(address, SS58_PREFIX) : [false, 'wrong length'];
    if (!valid) throw new Refusal('bad-request', `\`address\` is not an SS58 address with prefix ${SS58_PREFIX}: ${problem ?? 'invalid'}.`);
  }
  const epoch = epochOf(ctx.clock(), ctx.settings.epochMs);
  const total = (await ctx.store.epochTotals([epoch])).get(epoch) ?? 0;
  const board = await ctx.store.leaderboard(epoch, { offset: (page - 1) * pageSize, limit: pageSize, gpuClass });
  const row = (rank: number, r: LeaderboardEntry): LeaderboardRow => ({
    rank,
    name: r.name,
    address: r.address,
    validatedTokens: r.tokens,
    share: share(r.tokens, total),
    gpuClass: r.gpuClass,
  });
  const response: LeaderboardResponse = {
    page,
    pageSize,
    total: board.total,
    rows: board.rows.map((r, i) => row((page - 1) * pageSize + i + 1, r)),
  };
  if (address !== null) {
    const mine = await ctx.store.leaderboardRank(epoch, address, gpuClass);
    response.me = mine && row(mine.rank, mine.entry);
  }
  return response;
}

/** The weights a Commune validator would set for a settled epoch. */
export async function weightsOf(ctx: ValidatorContext, epoch: number): Promise<WeightsResponse> {
  const rows = (await ctx.store.epochTokens([epoch], null)).filter((r) => r.tokens > 0).sort((a, b) => (a.miner < b.miner ? -1 : 1));
  return {
    epoch,
    epochStartMs: epoch * ctx.settings.epochMs,
    epochEndMs: (epoch + 1) * ctx.settings.epochMs,
    weights: u16Weights(rows).map((r) => ({ uid: ctx.settings.uids.get(r.miner) ?? null, address: r.miner, weight: r.weight })),
  };
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const n = raw !== null && /^\d+$/.test(raw) ? Number(raw) : fallback;
  return Math.min(max, Math.max(min, n));
}
