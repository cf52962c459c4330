import type { ReactNode } from 'react';
import { formatTokens, formatTokensShort } from '../format';

export function Stat({
  label,
  value,
  hint,
  testId,
  title,
}: {
  label: string;
  value: ReactNode;
  hint?: string | undefined;
  testId?: string;
  /** The exact figure, where `value` is shortened to fit the card. */
  title?: string;
}) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" title={title}>
        {value}
      </div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

/** A token count: short past a million so the card keeps one line, exact in the tooltip. */
export function TokensStat({ tokens, ...rest }: { label: string; tokens: number; hint?: string | undefined; testId?: string }) {
  return <Stat {...rest} value={formatTokensShort(tokens)} title={formatTokens(tokens)} />;
}
