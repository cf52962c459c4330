// Placeholder until the change that brings `nya label` lands; it says so instead of pretending.
export async function run(_argv: string[]): Promise<number> {
  console.error('nya label: not available in this build yet');
  return 2;
}
