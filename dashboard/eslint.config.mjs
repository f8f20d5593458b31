// Lint rules of the dashboard (the root config ignores dashboard/**: browser code, JSX, React hooks).
// Run from the repository root: npx eslint -c dashboard/eslint.config.mjs dashboard
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  reactHooks.configs.flat.recommended,
  {
    files: ['dashboard/**/*.{ts,tsx,mjs}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/**', '**/platform/**'],
              message:
                'The dashboard talks to the server over HTTP only; share types through @csi-cert-driver/api-contract.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['dashboard/vite.config.ts', 'dashboard/eslint.config.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
);
