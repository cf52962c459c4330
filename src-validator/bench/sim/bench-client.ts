import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { API, SOFT_LABELS_CONTENT_TYPE, type SubmitResponse } from '../../../src-shared/protocol';
import { Bundler, GPU_MODELS } from './bundler-thread';
import { jsonOf, loopbackRequest } from './loopback-http';
import { signFast, SimMiner } from './sim-miner';

/** The key seed of the index-th simulated miner (the validator seeds these keys as established). */
export const benchMinerSeed = (index: number): number => 10_000 + index;

export interface BenchClientConfig {
  url: string;
  miners: number;
  modelHash: string;
  tokensPerTask: number;
  /** Simulated compute time between a lease and its submission (0 = as fast as possible). */
  computeMs: number;
  warmupMs: number;
  seconds: number;
  /** How to start this program as the bundler thread (`Bundler`). */
  bundlerScript: string;
  bundlerArgv: string[];
}

export interface BenchClientReport {
  submissions: number;
  submittedTokens: number;
  rejected: number;
  errors: number;
  noWork: number;
  submitLatenciesMs: number[];
  leaseLatenciesMs: number[];
  /** How late this process's event loop ran a 1 ms timer inside the window (p99, ms, past the 1 ms): the simulators' own share of `submitLatenciesMs`. */
  loopDelayP99Ms: number;
  measuredMs: number;
}

/** A 1 ms `monitorEventLoopDelay` histogram's p99, in ms past the 1 ms it waits anyway (0 when it saw nothing). */
export function loopDelayP99Ms(histogram: IntervalHistogram): number {
  return histogram.count > 0 ? Math.max(0, histogram.percentile(99) / 1e6 - 1) : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * N simulated miners on loopback: lease → (simulated compute) → signed submit of a full-size
 * bundle, each miner a concurrent async loop. Latencies are recorded only inside the measured
 * window (after warm-up), so start-up does not count.
 */
export async function runBenchClient(
  cfg: BenchClientConfig,
  onMeasureStart: () => void,
  onMeasureEnd: () => void,
): Promise<BenchClientReport> {
  await cryptoWaitReady();
  const report: BenchClientReport = {
    submissions: 0,
    submittedTokens: 0,
    rejected: 0,
    errors: 0,
    noWork: 0,
    submitLatenciesMs: [],
    leaseLatenciesMs: [],
    loopDelayP99Ms: 0,
    measuredMs: 0,
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const bundler = new Bundler(cfg.bundlerScript, cfg.bundlerArgv, cfg.modelHash);
  await bundler.ready;
  // The window opens once every miner has submitted once (and warm-up has passed).
  const warmUntil = performance.now() + cfg.warmupMs;
  let warmMiners = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  let stopAt = Number.POSITIVE_INFINITY;
  const openWindowIfReady = () => {
    if (measureFrom !== Number.POSITIVE_INFINITY || warmMiners < cfg.miners) return;
    measureFrom = Math.max(performance.now(), warmUntil);
    stopAt = measureFrom + cfg.seconds * 1000;
    setTimeout(() => {
      loopDelay.enable();
      onMeasureStart();
    }, measureFrom - performance.now());
    setTimeout(() => {
      loopDelay.disable();
      onMeasureEnd();
    }, stopAt - performance.now());
  };
  const measuring = () => {
    const now = performance.now();
    return now >= measureFrom && now < stopAt;
  };

  const minerLoop = async (index: number) => {
    const miner = SimMiner.fromSeed(cfg.url, benchMinerSeed(index));
    let buffer: SharedArrayBuffer | null = null;
    let warm = false;
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      const lease = await miner.leaseBytes({ maxTokens: cfg.tokensPerTask, tokensPerS: 1e9, gpuClass: 'bench', modelHash: cfg.modelHash });
      if (measuring()) report.leaseLatenciesMs.push(performance.now() - t0);
      if (lease.status !== 200) {
        report.errors++;
        await sleep(100);
        continue;
      }
      // The bundler thread parses the answer: its texts never reach this event loop.
      const built = await bundler.build(index % GPU_MODELS, lease.body, buffer);
      if (!built) {
        report.noWork++;
        await sleep(50);
        continue;
      }
      buffer = built.buffer;
      const body = Buffer.from(built.buffer, 0, built.length);
      const { sha256Hex } = built;
      if (cfg.computeMs) await sleep(cfg.computeMs * (0.5 + Math.random()));
      const path = API.result(built.taskId);
      const t1 = performance.now();
      const headers = { ...signFast(miner.pair, 'POST', path, { sha256Hex }, Date.now()), 'content-type': SOFT_LABELS_CONTENT_TYPE };
      const res = await loopbackRequest(cfg.url + path, 'POST', headers, body);
      const answer = jsonOf<SubmitResponse>(res);
      const inWindow = measuring();
      if (inWindow) report.submitLatenciesMs.push(performance.now() - t1);
      if (res.status !== 200) report.errors++;
      else if (inWindow) {
        report.submissions++;
        report.submittedTokens += built.tokens;
        if (answer.status === 'rejected') report.rejected++;
      }
      if (!warm && res.status === 200) {
        warm = true;
        warmMiners++;
        openWindowIfReady();
      }
    }
  };
  await Promise.all(Array.from({ length: cfg.miners }, (_, i) => minerLoop(i)));
  await bundler.close();
  report.measuredMs = cfg.seconds * 1000;
  report.loopDelayP99Ms = loopDelayP99Ms(loopDelay);
  return report;
}
