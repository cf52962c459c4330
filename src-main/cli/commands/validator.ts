// Placeholder until the change that brings `nya validator` lands; it says so instead of pretending.
export async function run(_argv: string[]): Promise<number> {
  console.error('nya validator: not available in this build yet');
  return 2;
}
