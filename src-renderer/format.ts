/** Numbers as a person reads them, always with their unit. */
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

export function formatTokens(n: number): string {
  return `${int.format(n)} tokens`;
}

/**
 * A stat card's figure: past a million, "1.43M tokens", so it stays on one line in a card at
 * 1280 px (the card's tooltip carries `formatTokens`' exact figure).
 */
export function formatTokensShort(n: number): string {
  return Math.abs(n) >= 1_000_000 ? `${compact.format(n)} tokens` : formatTokens(n);
}

export function formatRate(tokensPerS: number): string {
  return `${tokensPerS >= 100 ? int.format(tokensPerS) : one.format(tokensPerS)} tok/s`;
}

/** nano-COMAI decimal string → "12.345678901 COMAI" trimmed to `digits` decimals. */
export function formatComai(nano: string, digits = 4): string {
  const negative = nano.startsWith('-');
  const digitsOnly = (negative ? nano.slice(1) : nano).replace(/^0+(?=\d)/, '').padStart(10, '0');
  const whole = digitsOnly.slice(0, -9);
  const frac = digitsOnly.slice(-9, -9 + digits);
  return `${negative ? '-' : ''}${int.format(Number(whole))}.${frac} COMAI`;
}

export function formatPct(fraction: number | null): string {
  return fraction === null ? '—' : `${one.format(fraction * 100)} %`;
}

export function formatUnit(value: number | null, unit: string): string {
  return value === null ? '—' : `${one.format(value)} ${unit}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}

export { plural } from '../src-shared/plural';
