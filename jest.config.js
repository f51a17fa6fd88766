// Jest in ESM mode (NestJS 12 is ESM-only). Type-checking is `npm run typecheck`; ts-jest only
// transpiles (isolatedModules), which keeps the suite fast on two cores.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: {
    '^@datarun/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts', '<rootDir>/test/security/**/*.e2e.ts'],
    },
    {
      // Tests that stop their own broker or cut their own database proxy; run one at a time.
      ...common,
      displayName: 'fault',
      testMatch: ['<rootDir>/test/fault/**/*.e2e.ts'],
    },
  ],
};
