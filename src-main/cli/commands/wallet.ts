// Placeholder until the change that brings `nya wallet` lands; it says so instead of pretending.
export async function run(_argv: string[]): Promise<number> {
  console.error('nya wallet: not available in this build yet');
  return 2;
}
