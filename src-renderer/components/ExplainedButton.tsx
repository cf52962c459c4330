import { useId, type ReactNode } from 'react';

/** Why a button cannot be used: a few words beside it, the whole reason in its tooltip. */
export type Unavailable = { words: string; reason: string };

/**
 * A button that, when it cannot be used, says why beside it: a tooltip alone is missed on touch
 * and by keyboard. Busy is not unavailable: the button's own label says what is happening.
 */
export function ExplainedButton({
  unavailable,
  busy = false,
  type = 'button',
  className,
  onClick,
  children,
}: {
  unavailable: Unavailable | null;
  busy?: boolean;
  type?: 'button' | 'submit';
  className?: string;
  onClick?: () => void;
  children: ReactNode;
}) {
  const id = useId();
  const why = busy ? null : unavailable;
  return (
    <>
      <button
        type={type}
        className={className}
        disabled={busy || unavailable !== null}
        onClick={onClick}
        title={why?.reason}
        aria-describedby={why ? id : undefined}
      >
        {children}
      </button>
      {why && (
        <div id={id} className="stat-hint" title={why.reason}>
          {why.words}
        </div>
      )}
    </>
  );
}
