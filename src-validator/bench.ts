// Placeholder until the benchmark for this suite lands; it says so instead of printing figures.
export async function run(_argv: string[]): Promise<number> {
  console.error('nya bench: this suite is not available in this build yet');
  return 2;
}
