/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  testTimeout: 20000,
  // Tests ignore the developer's .env, .env.local and shell variables: see test/setup/hermetic-env.ts.
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  setupFiles: ['<rootDir>/test/setup/each-file.ts'],
  // Prints the guarantees table (npm run test:reliability) after every run, so `npm test` shows it too.
  reporters: ['default', '<rootDir>/test/reliability/reporter.cjs'],
};
