const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** "1 task", "4 tasks", "1,234 tokens": every count with a noun, in the app and its log, goes through here. */
export function plural(n: number, noun: string): string {
  return `${COUNT.format(n)} ${noun}${n === 1 ? '' : 's'}`;
}
