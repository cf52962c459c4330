import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateSnapshot } from '../../src-shared/state';
import { eventually, launchChromium, NyaProcess, ROOT } from '../browser/nya-process';

const SHOTS = resolve(ROOT, 'test-results');

/**
 * The whole loop as users run it: `nya validator` (SQLite, redundancy 2) fed with the FineWeb
 * sample, two `nya mine` processes with their own mining keys. Then the worst moments: a miner
 * and the validator killed with SIGKILL mid-work. Nothing computed may be lost: every task a miner
 * counted reaches the validator.
 */
const PASS = 'correct horse battery staple';

describe('nya validator + two nya mine', () => {
  const root = mkdtempSync(join(tmpdir(), 'nya-e2e-'));
  const validatorDir = join(root, 'validator');
  const minerDirs = [join(root, 'miner-a'), join(root, 'miner-b')];
  const minerKeys: string[] = [];
  const running: NyaProcess[] = [];
  let validatorUrl = '';
  let port = 0;

  const start = (args: string[], env: Record<string, string> = {}) => {
    const p = new NyaProcess(args, { NYA_WALLET_PASSPHRASE: PASS, ...env });
    running.push(p);
    return p;
  };
  const run = async (args: string[]) => {
    const p = start(args);
    const code = await p.exit();
    expect(code, `${args.join(' ')}:\n${p.stdout}\n${p.stderr}`).toBe(0);
    return p.stdout;
  };
  const startValidator = async (fixedPort = 0) => {
    // The two miners are new keys started together on one machine: the operator vouches for them
    // (docs/PROTOCOL.md, "Who checks whom"), else neither may check the other.
    const seeds = minerKeys.flatMap((key) => ['--established-key', key]);
    const v = start([
      ...['validator', '--port', String(fixedPort), '--data-dir', validatorDir, '--allow-demo', '--redundancy', '2'],
      ...['--first-seen-apart-minutes', '0', ...seeds],
    ]);
    const m = await v.waitFor(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
    validatorUrl = m[1]!;
    port = Number(m[2]);
    return v;
  };
  const startMiner = async (dir: string) => {
    const p = start(['mine', '--dashboard-port', '0', '--data-dir', dir, '--validator', validatorUrl]);
    const m = await p.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)$/m);
    const state = async (): Promise<StateSnapshot> => {
      const res = await fetch(`${m[1]}/api/state`, { headers: { authorization: `Bearer ${m[2]}` } });
      return (await res.json()) as StateSnapshot;
    };
    return { p, state, url: `${m[1]}/?token=${m[2]}` };
  };
  const outboxTokens = (dir: string) =>
    outboxFiles(dir).reduce(
      (sum, f) => sum + (JSON.parse(readFileSync(f.replace(/\.bin$/, '.json'), 'utf8')) as { tokens: number }).tokens,
      0,
    );
  const outboxFiles = (dir: string) => {
    const validators = join(dir, 'validators');
    return readdirSync(validators).flatMap((v) => {
      try {
        const outbox = join(validators, v, 'outbox');
        return readdirSync(outbox)
          .filter((f) => f.endsWith('.bin'))
          .map((f) => join(outbox, f));
      } catch {
        return [];
      }
    });
  };

  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL', 1000);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('runs the loop, shows it on the dashboard, survives SIGKILL on either side, and loses no result', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const ingested = await run([
      'validator',
      'ingest',
      resolve(ROOT, 'dist/fineweb/sample-000.parquet'),
      '--data-dir',
      validatorDir,
      '--allow-demo',
    ]);
    expect(ingested).toMatch(/\d+ new documents queued/);
    for (const dir of minerDirs) {
      const created = (await run(['wallet', 'create', '--data-dir', dir])).match(/5[1-9A-HJ-NP-Za-km-z]{47}/);
      expect(created).toBeTruthy();
      minerKeys.push(created![0]);
    }

    let validator = await startValidator();
    const a = await startMiner(minerDirs[0]!);
    const b = await startMiner(minerDirs[1]!);

    // Redundant results agree: both miners get validated tokens and earnings.
    await eventually(async () => {
      const [sa, sb] = [await a.state(), await b.state()];
      return sa.tokens.validated > 0 && sb.tokens.validated > 0 && sa.earnings.earnedNano !== '0';
    }, 'validated tokens on both miners');

    // The dashboard of miner a, in Chromium, with the pair's real figures: both miners rank.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(a.url);
      const guide = page.getByTestId('onboarding');
      await guide.getByRole('button', { name: 'Skip the guide' }).click();
      await guide.waitFor({ state: 'detached' });
      for (const size of [
        { width: 1024, height: 640 },
        { width: 1920, height: 1080 },
      ]) {
        await page.setViewportSize(size);
        for (const name of ['Dashboard', 'Leaderboard', 'Wallet', 'Settings', 'Logs']) {
          await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true }).click();
          await page.getByRole('heading', { level: 1, name }).waitFor();
          if (name === 'Leaderboard') {
            const rows = page.getByTestId('leaderboard').locator('tbody tr');
            await rows.nth(1).waitFor();
            expect(await rows.count()).toBe(2);
            expect(await page.getByTestId('leaderboard').locator('tr[aria-current="true"]').count()).toBe(1);
          }
          if (name === 'Wallet') await page.getByTestId('ledger').waitFor();
          await page.screenshot({ path: join(SHOTS, `pair-${name.toLowerCase()}-${size.width}x${size.height}.png`), fullPage: true });
        }
      }
    } finally {
      await browser.close();
    }

    // SIGKILL a miner while it has work in hand; its successor carries on from the same data folder.
    await eventually(async () => (await a.state()).task !== null, 'a task in progress');
    await a.p.stop('SIGKILL');
    const a2 = await startMiner(minerDirs[0]!);

    // SIGKILL the validator; the miners keep computing into their outboxes.
    await eventually(async () => (await a2.state()).tokens.computed > 0, 'the restarted miner computing');
    await validator.stop('SIGKILL');
    await eventually(async () => (await b.state()).validator.connection === 'offline', 'miner b noticing the validator is gone');
    const computedWhileDown = (await b.state()).tokens.computed;
    await eventually(
      async () => (await b.state()).tokens.computed > computedWhileDown || outboxFiles(minerDirs[1]!).length > 0,
      'work queued while the validator is down',
    );

    // Same data folder and port: the outboxes drain and nothing is missing.
    validator = await startValidator(port);
    await eventually(async () => {
      const [sa, sb] = [await a2.state(), await b.state()];
      return (
        sa.validator.outboxPending === 0 &&
        sb.validator.outboxPending === 0 &&
        sa.validator.connection === 'online' &&
        sb.validator.connection === 'online'
      );
    }, 'both outboxes drained');

    const why = (p: NyaProcess) =>
      p.stderr
        .split('\n')
        .filter((l) => /reject|refus|expired|unknown|duplicate|outbox/i.test(l))
        .join('\n');
    for (const [dir, miner] of [
      [minerDirs[0]!, a2],
      [minerDirs[1]!, b],
    ] as const) {
      await miner.p.stop('SIGTERM');
      const s = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'token-totals.json'), 'utf8')) as {
        computed: number;
      };
      // Every token the miner counted as computed reached the validator. (A result is on disk
      // before it is counted, so a kill between the two can only make the validator's side larger.)
      // A task finished after the drain check is still in the outbox, on disk, for the next start.
      const ledgerTokens = await validatorLedgerTokens(dir);
      expect(s.computed).toBeGreaterThan(0);
      expect(ledgerTokens + outboxTokens(dir), `${dir}:\n${why(miner.p)}\n--- validator:\n${why(validator)}`).toBeGreaterThanOrEqual(
        s.computed,
      );
    }
  }, 900_000);

  /** The validator's ledger for this miner, read with the miner's own signed client. */
  async function validatorLedgerTokens(dir: string): Promise<number> {
    const { ValidatorSession } = await import('../../src-main/validator-client');
    const { loadMiningSigner, passphraseBox } = await import('../../src-main/wallet');
    const { silentLogger } = await import('../../src-node/log');
    const signer = await loadMiningSigner(dir, passphraseBox(PASS));
    const session = new ValidatorSession({
      baseUrl: validatorUrl,
      signer,
      dataDir: mkdtempSync(join(tmpdir(), 'nya-ledger-')),
      log: silentLogger,
      clientName: 'e2e',
    });
    let total = 0;
    let before: string | undefined;
    for (;;) {
      const page = await session.ledger(before);
      total += page.entries.reduce((sum, e) => sum + e.tokens, 0);
      if (!page.next) break;
      before = page.next;
    }
    return total;
  }
});
