/** The few DOM helpers every part of the link page uses; the element ids are page-html.ts's. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The link page has no #${id}.`);
  return element as T;
}

export type StatusTone = 'ok' | 'error' | '';

/** One status line; errors are announced at once (role alert), the rest politely. */
export function setStatus(text: string, tone: StatusTone = ''): void {
  const status = byId('status');
  status.textContent = text;
  status.className = `status ${tone}`;
  status.setAttribute('role', tone === 'error' ? 'alert' : 'status');
}

export function disableControls(): void {
  for (const control of document.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(
    'button, input, textarea, select',
  )) {
    control.disabled = true;
  }
}

/** An extension rejects with an Error or, some, with a bare string. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
