import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import type { Session, WebContents } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import {
  APP_ENTRY_URL,
  CONTENT_SECURITY_POLICY,
  appResponseHeaders,
  hardenSession,
  hardenWebContents,
  isAllowedExternalUrl,
  isTrustedSender,
  resolveAppAsset,
  secureWebPreferences,
} from '../../src-main/electron/security';

const mainFrame = (url: string) => ({ url, parent: null });

describe('isTrustedSender', () => {
  const ours = new Set([7]);
  it('accepts the main frame of our window showing our page', () => {
    expect(isTrustedSender({ sender: { id: 7 }, senderFrame: mainFrame(APP_ENTRY_URL) }, ours)).toBe(true);
    expect(isTrustedSender({ sender: { id: 7 }, senderFrame: mainFrame('app://nya/#/wallet') }, ours)).toBe(true);
  });
  it.each([
    ['an unknown webContents', { sender: { id: 8 }, senderFrame: mainFrame(APP_ENTRY_URL) }],
    ['a sub-frame', { sender: { id: 7 }, senderFrame: { url: APP_ENTRY_URL, parent: mainFrame(APP_ENTRY_URL) } }],
    ['a destroyed frame', { sender: { id: 7 }, senderFrame: null }],
    ['a remote page', { sender: { id: 7 }, senderFrame: mainFrame('https://evil.example/') }],
    ['a local file', { sender: { id: 7 }, senderFrame: mainFrame('file:///tmp/x.html') }],
    ['another app:// host', { sender: { id: 7 }, senderFrame: mainFrame('app://other/index.html') }],
    ['credentials in the URL', { sender: { id: 7 }, senderFrame: mainFrame('app://u:p@nya/index.html') }],
  ])('refuses %s', (_name, event) => {
    expect(isTrustedSender(event, ours)).toBe(false);
  });
});

describe('resolveAppAsset', () => {
  const root = resolve('/srv/renderer');
  it('maps our URLs into the renderer folder', () => {
    expect(resolveAppAsset('app://nya/', root)).toBe(join(root, 'index.html'));
    expect(resolveAppAsset('app://nya/assets/index-abc.js', root)).toBe(join(root, 'assets', 'index-abc.js'));
    expect(resolveAppAsset('app://nya/a%20b.css?x=1#y', root)).toBe(join(root, 'a b.css'));
  });
  it('keeps dot segments inside the folder, as the URL parser resolves them', () => {
    expect(resolveAppAsset('app://nya/../secret.txt', root)).toBe(join(root, 'secret.txt'));
    expect(resolveAppAsset('app://nya/%2e%2e/secret.txt', root)).toBe(join(root, 'secret.txt'));
  });
  it.each([
    'app://nya/assets/..%2f..%2fsecret.txt',
    'app://nya/..%5csecret.txt',
    'app://nya/x%00.js',
    'app://nya/%E0%A4%A',
    'app://other/index.html',
    'file:///etc/passwd',
  ])('refuses %s', (url) => {
    expect(resolveAppAsset(url, root)).toBeNull();
  });
});

describe('external links', () => {
  it('allows only https to listed hosts and their subdomains', () => {
    expect(isAllowedExternalUrl('https://github.com/nya/miner')).toBe(true);
    expect(isAllowedExternalUrl('https://docs.github.com/x')).toBe(true);
    expect(isAllowedExternalUrl('http://github.com/')).toBe(false);
    expect(isAllowedExternalUrl('https://github.com.evil.example/')).toBe(false);
    expect(isAllowedExternalUrl('https://evilgithub.com/')).toBe(false);
    expect(isAllowedExternalUrl('https://user@github.com/')).toBe(false);
    expect(isAllowedExternalUrl('javascript:alert(1)')).toBe(false);
    expect(isAllowedExternalUrl('not a url')).toBe(false);
  });
});

describe('web preferences', () => {
  it('isolates the page from Node', () => {
    const prefs = secureWebPreferences('/app/preload.cjs');
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      devTools: false,
    });
    expect(secureWebPreferences('/p', { devTools: true }).devTools).toBe(true);
  });
});

describe('content security policy', () => {
  const directives = new Map(
    CONTENT_SECURITY_POLICY.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    }),
  );
  it('allows only our own origin and no inline code', () => {
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('img-src')).toEqual(["'self'", 'data:']);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });
  it('is attached to every app:// response', () => {
    expect(appResponseHeaders('/x/index.html')).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
    });
    expect(appResponseHeaders('/x/a.js')['content-type']).toMatch(/javascript/);
  });
});

function fakeSession() {
  const handlers: Record<string, (...args: never[]) => unknown> = {};
  const session = {
    webRequest: { onHeadersReceived: (l: never) => (handlers.headers = l) },
    setPermissionRequestHandler: (h: never) => (handlers.request = h),
    setPermissionCheckHandler: (h: never) => (handlers.check = h),
    setDevicePermissionHandler: (h: never) => (handlers.device = h),
  };
  hardenSession(session as unknown as Session);
  return handlers as unknown as {
    headers: (details: { responseHeaders?: Record<string, string[]> }, cb: (r: unknown) => void) => void;
    request: (wc: unknown, permission: string, cb: (granted: boolean) => void) => void;
    check: (wc: unknown, permission: string) => boolean;
    device: (details: unknown) => boolean;
  };
}

describe('hardenSession', () => {
  it('replaces any CSP header with ours', () => {
    const h = fakeSession();
    const cb = vi.fn();
    h.headers({ responseHeaders: { 'content-security-policy': ['default-src *'], 'X-Other': ['1'] } }, cb);
    const headers = cb.mock.calls[0]![0].responseHeaders as Record<string, string[]>;
    expect(headers['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    expect(headers['content-security-policy']).toBeUndefined();
    expect(headers['X-Other']).toEqual(['1']);
  });
  it('denies every permission request and check', () => {
    const h = fakeSession();
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      const cb = vi.fn();
      h.request({}, permission, cb);
      expect(cb).toHaveBeenCalledWith(false);
      expect(h.check({}, permission)).toBe(false);
    }
    expect(h.device({})).toBe(false);
  });
});

describe('hardenWebContents', () => {
  function setup() {
    const contents = new EventEmitter() as EventEmitter & { setWindowOpenHandler: (h: unknown) => void };
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    contents.setWindowOpenHandler = (h) => (openHandler = h as typeof openHandler);
    const opened: string[] = [];
    hardenWebContents(contents as unknown as WebContents, { openExternal: async (url) => void opened.push(url) });
    const navigate = (event: string, url: string) => {
      const e = { url, preventDefault: vi.fn() };
      contents.emit(event, e);
      return e.preventDefault.mock.calls.length > 0;
    };
    return { navigate, open: (url: string) => openHandler!({ url }), opened };
  }
  it('blocks every navigation, opening allow-listed https links outside', () => {
    const s = setup();
    expect(s.navigate('will-navigate', 'https://evil.example/')).toBe(true);
    expect(s.navigate('will-navigate', 'app://nya/other.html')).toBe(true);
    expect(s.navigate('will-navigate', 'https://github.com/nya')).toBe(true);
    expect(s.opened).toEqual(['https://github.com/nya']);
  });
  it('blocks redirects off our origin and webviews', () => {
    const s = setup();
    expect(s.navigate('will-redirect', 'https://evil.example/')).toBe(true);
    expect(s.navigate('will-redirect', 'app://nya/index.html')).toBe(false);
    expect(s.navigate('will-attach-webview', 'app://nya/index.html')).toBe(true);
  });
  it('denies window.open, handing allow-listed links to the browser', () => {
    const s = setup();
    expect(s.open('https://evil.example/')).toEqual({ action: 'deny' });
    expect(s.open('https://huggingface.co/mistralai')).toEqual({ action: 'deny' });
    expect(s.opened).toEqual(['https://huggingface.co/mistralai']);
  });
});
