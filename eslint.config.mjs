import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const frameworkImports = [
  { group: ['@nestjs/*', '@nestjs'], message: 'The domain library is pure: no NestJS.' },
  { group: ['@nats-io/*', 'nats'], message: 'The domain library is pure: no NATS.' },
  { group: ['class-validator', 'class-transformer'], message: 'Validation of wire bodies belongs at the edge, not in the domain.' },
  { group: ['rxjs', 'rxjs/*'], message: 'The domain library is pure: no rxjs.' },
];

/** Each app stands alone: it may import libraries, never another app (shared code goes into libs/). */
const appImports = (other) => [
  { group: [`**/${other}/src/**`, `**/apps/${other}/**`], message: `No app imports another app: move what ${other} and this app share into a library.` },
];
const libImports = [{ group: ['**/apps/**'], message: 'A library never imports an app.' }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  { files: ['apps/ipam/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: appImports('cli') }] } },
  { files: ['apps/cli/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: appImports('ipam') }] } },
  {
    // the web console: no other app, and only types from the libraries (no class-validator or NATS in the browser bundle),
    // but for the domain's pure address functions (ipaddr.js only)
    files: ['apps/console/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...appImports('ipam'),
            ...appImports('cli'),
            {
              regex: '(^|/)libs/(?!ipam-domain/src/address\\.js$)',
              allowTypeImports: true,
              message: 'The console takes only types from the libraries (import type), and the pure address functions of libs/ipam-domain/src/address.ts.',
            },
          ],
        },
      ],
    },
  },
  { files: ['libs/*/src/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: libImports }] } },
  {
    files: ['libs/ipam-domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...frameworkImports, ...libImports] }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'decide is deterministic: time comes in with the command.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'decide is deterministic.' }],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'bin/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
  },
);
