// ESLint with typescript-eslint's type-checked rules. `npm run lint` runs it over src/, test/ and bench/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/gen/**', 'e2e/**', '.run/**', 'csi-sanity/**', 'scripts/**', 'bin/**', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The rules this project exists for: no promise left unhandled, no promise where a callback returns void,
      // and every case of a union handled.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // prom-client calls collect() with `this` bound to the metric, so the owner is reached through a named alias.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      // Fakes in tests implement async interfaces with bodies that need no await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests build requests and fakes loosely on purpose (hostile inputs, partial fakes cast to the interface).
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Tests compare gRPC status codes read off errors (plain numbers) with the status enum.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // mocha's describe/it take functions whose returned promise mocha awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'mocha', name: ['describe', 'it'] }] }],
    },
  },
);
