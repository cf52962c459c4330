// ESLint flat config. Syntax-only (no type-aware rules): the whole lint has to stay fast on a
// two-core machine, and `npm run typecheck` already runs tsc per process.
//
// The folders are the architecture (docs/ARCHITECTURE.md); the layer rules below keep the import
// graph honest, as VS Code's code-layering does. test/architecture/lint-layers.test.ts proves
// each rule reports a violation.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { defineConfig, globalIgnores } from 'eslint/config';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/**
 * Every import of ours names the folder it reaches into (`../../src-main/log`): the tsconfigs have
 * no path aliases. A regex rather than a `group` glob so one expression serves both rules below.
 */
const folder = (name) => ({
  regex: `(^|/)${name}(/|$)`,
  message: `This folder may not import ${name}/ (docs/ARCHITECTURE.md, the layers).`,
});

/** A forbidden import: a regular expression on the specifier and why it is forbidden. */
const FORBIDDEN = {
  node: folder('src-node'),
  main: folder('src-main'),
  renderer: folder('src-renderer'),
  validator: folder('src-validator'),
  electron: {
    regex: '^electron(/|$)',
    message: 'Only the Electron shell (src-main/electron, src-main/compose/electron.ts) imports electron.',
  },
  builtins: {
    regex: `^(node:|(${builtinModules.filter((m) => !m.startsWith('_')).join('|')})(/|$))`,
    message: 'This layer runs outside Node: no Node built-ins.',
  },
};

/**
 * no-restricted-imports sees static imports and `export … from`; the same expressions, written
 * for esquery (which cannot hold a `/` inside its regex literal), catch `import('…')`,
 * `typeof import('…')` and `require('…')`.
 */
function layer(name, { files, ignores = [], forbid }) {
  const rules = forbid.map((key) => FORBIDDEN[key]);
  const esquery = (regex) => `/${regex.replaceAll('/', '\\x2F')}/`;
  return {
    name: `nya/layers/${name}`,
    files,
    ignores,
    rules: {
      'no-restricted-imports': ['error', { patterns: rules.map(({ regex, message }) => ({ regex, message })) }],
      'no-restricted-syntax': [
        'error',
        ...rules.flatMap(({ regex, message }) =>
          ['ImportExpression', 'TSImportType', "CallExpression[callee.name='require']"].map((parent) => ({
            selector: `${parent} > Literal[value=${esquery(regex)}]`,
            message,
          })),
        ),
      ],
    },
  };
}

/** Each file matches exactly one layer block: flat config replaces a rule's options, it does not merge them. */
const layers = [
  layer('src-shared', { files: ['src-shared/**'], forbid: ['node', 'main', 'renderer', 'validator', 'electron', 'builtins'] }),
  layer('src-node', { files: ['src-node/**'], forbid: ['main', 'renderer', 'validator', 'electron'] }),
  layer('src-validator', { files: ['src-validator/**'], forbid: ['main', 'renderer', 'electron'] }),
  layer('src-renderer', { files: ['src-renderer/**'], forbid: ['node', 'main', 'validator', 'electron', 'builtins'] }),
  layer('src-main', {
    files: ['src-main/**'],
    ignores: ['src-main/electron/**', 'src-main/compose/**', 'src-main/cli/**'],
    forbid: ['renderer', 'validator', 'electron'],
  }),
  // The shell may use Electron; the validator is started only by the composition roots and the CLI.
  layer('src-main/electron', { files: ['src-main/electron/**'], forbid: ['renderer', 'validator'] }),
  layer('src-main/compose+cli', {
    files: ['src-main/compose/**', 'src-main/cli/**'],
    ignores: ['src-main/compose/electron.ts'],
    forbid: ['renderer', 'electron'],
  }),
  layer('src-main/compose/electron.ts', { files: ['src-main/compose/electron.ts'], forbid: ['renderer'] }),
];

export default defineConfig(
  globalIgnores(['dist/', 'out/', 'coverage/', 'test-results/', 'assets/', '.nya/', '.cache/'], 'nya/ignores'),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    name: 'nya/globals',
    languageOptions: { ecmaVersion: 2022, globals: { ...globals.node } },
  },
  {
    name: 'nya/renderer-globals',
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    name: 'nya/commonjs',
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    name: 'nya/style',
    rules: {
      // `_name` marks a parameter a signature needs but the body does not; `...rest` drops keys.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // The code already writes `import { x, type Y }`; with isolatedModules, esbuild and Vite drop
      // only what is marked as a type. `typeof import('electron')` is how a lazy module is typed.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    name: 'nya/react-hooks',
    files: ['src-renderer/**/*.{ts,tsx}', 'test/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    // The two classic rules; the React Compiler rules of `recommended-latest` cost about 6 s of
    // CPU here (the compiler runs per component) for one finding, a fetch-in-effect hook.
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  ...layers,
  prettier,
);
