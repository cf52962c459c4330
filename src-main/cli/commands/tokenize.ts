import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorMessage } from '../../../src-node/log';
import { loadTokenizer } from '../../../src-node/tokenizer';

const USAGE = `usage: nya tokenize [--model DIR] [--seq-len N] < text.txt

Prints the Mistral v0.3 token ids of the UTF-8 text on standard input as one JSON array:
BOS first, no EOS, no chat template, control-token text such as "[INST]" read as plain text.

options:
  --model DIR     use DIR/tokenizer.json when the model folder has one (default: the bundled one)
  --seq-len N     keep at most N ids, BOS included (right-truncated, as the teacher does)
  --source        also print where the tokenizer came from, on standard error`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  // fatal: bad UTF-8 is an error the user can act on, not silently replaced characters.
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        'seq-len': { type: 'string' },
        source: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`nya tokenize: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let seqLen: number | undefined;
  if (values['seq-len'] !== undefined) {
    seqLen = Number(values['seq-len']);
    if (!/^\d+$/.test(values['seq-len']) || seqLen < 1) {
      console.error(`nya tokenize: --seq-len must be a positive whole number, got '${values['seq-len']}'`);
      return 2;
    }
  }
  if (values.model !== undefined && !statSync(values.model, { throwIfNoEntry: false })?.isDirectory()) {
    console.error(`nya tokenize: --model ${values.model} is not a folder`);
    return 2;
  }
  let text: string;
  try {
    text = await readStdin();
  } catch (error) {
    console.error(`nya tokenize: standard input is not valid UTF-8 (${errorMessage(error)})`);
    return 1;
  }
  const tokenizer = await loadTokenizer(values.model ?? null);
  if (values.source) console.error(`tokenizer: ${tokenizer.source}`);
  process.stdout.write(`${JSON.stringify(Array.from(tokenizer.encode(text, seqLen)))}\n`);
  return 0;
}
