import { errorMessage } from '../../src-node/log';

/** Option parsing shared by the validator's bench suites (`--name value` pairs and flags). */
export function optionValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A non-negative number option, or `fallback` when absent; throws a usage message otherwise. */
export function numberOption(argv: string[], name: string, fallback: number): number {
  const raw = optionValue(argv, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} takes a non-negative number, not '${raw}'.`);
  return n;
}

/** The suite's parsed options, or null once their usage error is printed (the suite exits with 2). */
export function optionsOrUsage<T>(suite: string, parse: () => T): T | null {
  try {
    return parse();
  } catch (error) {
    console.error(`nya bench ${suite}: ${errorMessage(error)}`);
    return null;
  }
}
