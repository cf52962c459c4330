/**
 * The `nya` command. Each subcommand lives in `commands/<name>.ts` and exports
 * `run(argv: string[]): Promise<number>` (the exit code); this file only dispatches.
 */
import { appVersion } from '../../src-node/app-version';

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  mine: { summary: 'mine with the dashboard on http://127.0.0.1:7420', load: () => import('./commands/mine') },
  validator: { summary: 'run the reference validator (also: ingest, export)', load: () => import('./commands/validator') },
  label: { summary: 'soft labels for JSON lines on stdin with any model folder', load: () => import('./commands/label') },
  tokenize: { summary: 'print the Mistral v0.3 token ids of UTF-8 text on stdin', load: () => import('./commands/tokenize') },
  model: { summary: 'list, download and verify teacher models', load: () => import('./commands/model') },
  wallet: { summary: 'create, import, show or remove the mining key', load: () => import('./commands/wallet') },
  bench: { summary: 'benchmarks: nya bench teacher|validator|checks [--json]', load: () => import('./commands/bench') },
  service: { summary: "install or remove 'nya mine' as a systemd service (Linux rigs)", load: () => import('./commands/service') },
  diagnostics: {
    summary: 'versions, GPU, provider, settings and recent logs for a bug report',
    load: () => import('./commands/diagnostics'),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return [
    'usage: nya <command> [options]',
    '       nya --version',
    '',
    'commands:',
    ...lines,
    '',
    'nya <command> --help for its options',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(`nya-miner ${appVersion()}`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`nya: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`nya: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
