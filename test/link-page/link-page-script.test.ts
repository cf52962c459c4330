import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src-node/log';
import { PayoutLinker } from '../../src-main/wallet/payout-link/payout-linker';
import { PayoutLinkServer } from '../../src-main/wallet/payout-link/payout-link-server';
import { LINK_PAGE_SCRIPT_PATH } from '../../src-shared/payout-link-page';

/** The page's browser script is a build output (dist/link-page/link-page.js) main serves from memory. */
function server(scriptFile: string): PayoutLinkServer {
  const linker = new PayoutLinker({
    validator: { payoutChallenge: () => Promise.reject(new Error('unused')), linkPayout: () => Promise.reject(new Error('unused')) },
    validatorFailure: () => null,
    miningAddress: () => null,
  });
  return new PayoutLinkServer({ linker, miningAddress: () => null, log: silentLogger, scriptFile });
}

describe('the link page script', () => {
  it('is read once at start and served with the page security headers', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nya-link-script-')), 'link-page.js');
    writeFileSync(file, 'console.log("built");');
    const s = server(file);
    await s.start();
    try {
      writeFileSync(file, 'changed after start');
      const url = new URL(s.open({ challengeId: 'c', message: 'm', expiresAtMs: Date.now() + 60_000 }));
      const answer = await fetch(new URL(LINK_PAGE_SCRIPT_PATH, url.origin));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(answer.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await answer.text()).toBe('console.log("built");');
    } finally {
      await s.dispose();
    }
  });

  it('missing (no build yet) stops the server from starting, with the command that builds it', async () => {
    const missing = join(tmpdir(), 'nya-no-such-dir', 'link-page.js');
    const started = server(missing).start();
    await expect(started).rejects.toThrow(`The payout link page's script ${missing} cannot be read`);
    await expect(started).rejects.toThrow('build it with `npm run build`');
  });
});
