// Placeholder until the change that brings `nya mine` lands; it says so instead of pretending.
export async function run(_argv: string[]): Promise<number> {
  console.error('nya mine: not available in this build yet');
  return 2;
}
