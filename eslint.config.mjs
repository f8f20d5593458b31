// Lint rules: typescript-eslint strict for all TypeScript, plus the dependency rules that keep the
// core free of adapters and the adapters bound to the platform contract only
// (see docs/adr/0017-one-platform-contract.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const adapterImports = {
  patterns: [
    {
      group: [
        '@csi-cert-driver/platform-linux',
        '@csi-cert-driver/platform-windows',
        '**/platform/linux/**',
        '**/platform/windows/**',
      ],
      message:
        'Core code must not import a platform adapter; only server/src/platform/select-platform.ts picks one.',
    },
  ],
};

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '.nx/**', 'dashboard/**', 'coverage/**', '**/*.cjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs'],
    plugins: { '@nx': nx },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'layer:adapter', onlyDependOnLibsWithTags: ['scope:platform'] },
            { sourceTag: 'layer:contract', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'layer:app', onlyDependOnLibsWithTags: ['layer:adapter', 'layer:contract'] },
            { sourceTag: 'layer:ui', onlyDependOnLibsWithTags: ['layer:contract'] },
            {
              sourceTag: 'layer:test',
              onlyDependOnLibsWithTags: ['layer:app', 'layer:adapter', 'layer:contract'],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/src/**/*.ts'],
    ignores: ['server/src/platform/select-platform.ts'],
    rules: { 'no-restricted-imports': ['error', adapterImports] },
  },
);
