import { extname, resolve, sep } from 'node:path';
import type { Session, WebContents, WebPreferences } from 'electron';

/**
 * Every security setting of the desktop shell, in one place (as VS Code keeps its session
 * hardening together). Only type imports from Electron: each setting is applied to objects passed
 * in, so `test/electron/security.test.ts` checks each one in plain Node with fakes.
 *
 * The renderer is served from a custom `app://nya/` origin rather than `file://`: under file://
 * every file on the disk shares one opaque origin, so CSP `'self'` and the sender check would
 * admit any local HTML file; `app://nya` is a real, standard, secure origin whose handler only
 * serves files inside `dist/renderer` and attaches the CSP header itself.
 */

export const APP_SCHEME = 'app';
const APP_HOST = 'nya';
const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * No inline script or style: the Vite build emits only files, React's `style` props go through
 * the CSSOM (which CSP does not govern), so `'unsafe-inline'` is not needed anywhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Hosts whose https links the renderer may open, in the user's browser, never in the app. */
const EXTERNAL_LINK_HOSTS: readonly string[] = ['github.com', 'huggingface.co', 'communeai.org'];

/** The BrowserWindow preferences: nothing of Node reaches the page; only the preload's bridge. */
export function secureWebPreferences(preloadPath: string, o: { devTools: boolean } = { devTools: false }): WebPreferences {
  return {
    preload: preloadPath,
    devTools: o.devTools,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

/** The privileges `app://` needs (call before `app` is ready): a standard, secure origin. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
};

/** Is `url` a page of ours (any path under `app://nya/`)? */
function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && !parsed.username && !parsed.password;
  } catch {
    return false;
  }
}

/** An https link to an allow-listed host (or a subdomain of one). */
export function isAllowedExternalUrl(url: string, hosts: readonly string[] = EXTERNAL_LINK_HOSTS): boolean {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' || parsed.username || parsed.password) return false;
    const host = parsed.hostname.toLowerCase();
    return hosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
  } catch {
    return false;
  }
}

/** The parts of an IPC event the sender check reads; Electron's `IpcMainInvokeEvent` fits it. */
export interface IpcSenderEvent {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

/**
 * An IPC message is answered only if it comes from the main frame (not an iframe) of one of our
 * windows, showing one of our pages. A compromised or navigated frame is refused.
 */
export function isTrustedSender(event: IpcSenderEvent, trustedWebContentsIds: ReadonlySet<number>): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  if (!trustedWebContentsIds.has(event.sender.id)) return false;
  return isAppUrl(frame.url);
}

/**
 * The file an `app://nya/...` request maps to, or null when it names anything outside the
 * renderer folder (another host, `..`, an encoded separator, a NUL byte).
 */
export function resolveAppAsset(requestUrl: string, rendererDir: string): string | null {
  if (!isAppUrl(requestUrl)) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(requestUrl).pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const relative = pathname === '/' || pathname === '' ? 'index.html' : pathname.replace(/^\/+/, '');
  const root = resolve(rendererDir);
  const file = resolve(root, relative);
  return file.startsWith(root + sep) ? file : null;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

function mimeTypeOf(file: string): string {
  return MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers every `app://` response carries. */
export function appResponseHeaders(file: string): Record<string, string> {
  return {
    'content-type': mimeTypeOf(file),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
  };
}

/**
 * Session-wide: the CSP header on every response (the app:// handler sets it too; this covers
 * anything else the session loads), every permission request and check refused.
 */
export function hardenSession(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...(details.responseHeaders ?? {}) };
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'content-security-policy') delete headers[name];
    }
    callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}

export interface ExternalOpener {
  openExternal(url: string): Promise<void>;
}

/**
 * Per web contents (applied to every one the app creates): no navigation away from the loaded
 * page, no new windows (an allow-listed https link opens in the user's browser instead), no
 * `<webview>`.
 */
export function hardenWebContents(contents: WebContents, opener: ExternalOpener): void {
  const openOutside = (url: string) => {
    if (isAllowedExternalUrl(url)) void opener.openExternal(url).catch(() => undefined);
  };
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    openOutside(event.url);
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url);
    return { action: 'deny' };
  });
}
