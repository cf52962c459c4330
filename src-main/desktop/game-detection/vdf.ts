/**
 * Valve's KeyValues text format (registry.vdf, libraryfolders.vdf, appmanifest_*.acf): quoted or
 * bare tokens, `{ }` nesting, `//` comments, and `[$WIN32]`-style conditions, which we skip.
 */
export interface VdfObject {
  [key: string]: string | VdfObject;
}

export function parseVdf(text: string): VdfObject {
  const tokens = tokenize(text);
  let at = 0;
  const parseObject = (nested: boolean): VdfObject => {
    const object: VdfObject = {};
    while (at < tokens.length) {
      const key = tokens[at++]!;
      if (key.kind === 'close') {
        if (nested) return object;
        throw new Error(`VDF: unexpected "}" on line ${key.line}`);
      }
      if (key.kind !== 'string') throw new Error(`VDF: expected a key on line ${key.line}`);
      const value = tokens[at++];
      if (!value) throw new Error(`VDF: key "${key.text}" has no value`);
      if (value.kind === 'open') object[key.text] = parseObject(true);
      else if (value.kind === 'string') object[key.text] = value.text;
      else throw new Error(`VDF: unexpected "}" after key "${key.text}" on line ${value.line}`);
    }
    if (nested) throw new Error('VDF: a "{" is never closed');
    return object;
  };
  return parseObject(false);
}

/** Walks keys case-insensitively (Steam writes "RunningAppID", older builds "runningappid"). */
export function vdfGet(object: VdfObject, path: readonly string[]): string | VdfObject | undefined {
  let node: string | VdfObject | undefined = object;
  for (const key of path) {
    if (node === undefined || typeof node === 'string') return undefined;
    const match: string | undefined = Object.keys(node).find((k) => k.toLowerCase() === key.toLowerCase());
    node = match === undefined ? undefined : node[match];
  }
  return node;
}

type Token = { kind: 'string'; text: string; line: number } | { kind: 'open' | 'close'; line: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (/\s/.test(c)) i++;
    else if (c === '/' && text[i + 1] === '/') while (i < text.length && text[i] !== '\n') i++;
    else if (c === '[') while (i < text.length && text[i - 1] !== ']') i++;
    else if (c === '{' || c === '}') {
      tokens.push({ kind: c === '{' ? 'open' : 'close', line });
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) {
          const escaped = text[++i]!;
          value += { n: '\n', t: '\t' }[escaped] ?? escaped;
        } else value += text[i];
        if (text[i] === '\n') line++;
        i++;
      }
      if (i >= text.length) throw new Error(`VDF: a quoted string is never closed (line ${line})`);
      i++;
      tokens.push({ kind: 'string', text: value, line });
    } else {
      const start = i;
      while (i < text.length && !/[\s{}"]/.test(text[i]!)) i++;
      tokens.push({ kind: 'string', text: text.slice(start, i), line });
    }
  }
  return tokens;
}
