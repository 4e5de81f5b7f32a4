import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'
import importX from 'eslint-plugin-import-x'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import { layerZones } from './eslint.layers.js'

/** Files the GPU trainer page runs (in a browser renderer): the trainers and all they import. */
const BROWSER_SAFE = [
  'src/core/training/{trainer,vq-trainer,data,clipping,schedules,shift,estimate,run-loop,checkpoint-state,preview-images,page-protocol}.ts',
  'src/core/models/**/*.ts',
  'src/core/accel/{ops,fused-adam,cross-entropy,elementwise,pool-wake,heap,simd-module,gpu-choice}.ts',
  'src/core/util/{random,runtime}.ts',
  'src/renderer/gpu-trainer/**/*.ts',
]

export default tseslint.config(
  {
    ignores: [
      'tmp/**',
      'out/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'resources/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'vue/multi-word-component-names': 'off',
    },
  },
  {
    // The direction of imports (eslint.layers.js) and no cycles, in the app's own code.
    files: ['src/**/*.{ts,vue}'],
    plugins: { 'import-x': importX },
    settings: {
      // Without these the rules see no TypeScript file and no-cycle never fires.
      // (.vue files are linted, but not parsed again as dependencies: only .ts ones are followed.)
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.node.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: layerZones() }],
    },
  },
  {
    // The renderer runs in a browser sandbox: no Node globals there.
    files: ['src/renderer/**/*.{ts,vue}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-globals': ['error', 'process', 'require', '__dirname', 'Buffer'] },
  },
  {
    // The core must run under plain Node: Electron stays in the thin shell.
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts', 'src/web/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'Keep Electron out of the core, web host and CLI.' },
          ],
        },
      ],
    },
  },
  {
    // The contract is shared by every process: no Node, Electron or DOM in it.
    files: ['src/shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'src/shared is imported by every process.' }],
          patterns: [
            {
              regex: '^node:',
              message: 'src/shared is imported by the renderer too: no Node modules here.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        'process',
        'require',
        'Buffer',
        '__dirname',
        'window',
        'document',
        'navigator',
      ],
    },
  },
  {
    // The trainers and what they reach run in a browser renderer too (the GPU trainer page,
    // src/renderer/gpu-trainer): no Node modules or globals there. Node-only work (the database,
    // files, checkpoints, previews) lives beside them in files not listed here (data-load.ts...).
    files: BROWSER_SAFE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'better-sqlite3', 'sharp'].map((name) => ({
            name,
            message: 'This file runs in the GPU trainer page too (BROWSER_SAFE, eslint.config.js).',
          })),
          patterns: [
            {
              regex: '^node:',
              message: 'This file runs in the GPU trainer page too: no Node modules here.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        'process',
        'require',
        'Buffer',
        '__dirname',
        'setImmediate',
      ],
    },
  },
  prettier,
)
