import type { ReactNode } from 'react';

/** The one way a page says "nothing here yet" or "that failed": never a blank area. */
export function Empty({ children, tone = 'muted' }: { children: ReactNode; tone?: 'muted' | 'error' }) {
  return (
    <p className={tone === 'error' ? 'empty error-text' : 'empty muted'} role={tone === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}
