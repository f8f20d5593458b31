import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const alias = {
  '@csi-cert-driver/platform-linux': fileURLToPath(new URL('./platform/linux/src/index.ts', import.meta.url)),
  '@csi-cert-driver/platform-windows': fileURLToPath(
    new URL('./platform/windows/src/index.ts', import.meta.url),
  ),
  '@csi-cert-driver/api-contract': fileURLToPath(
    new URL('./server/src/api/contract/index.ts', import.meta.url),
  ),
  '@csi-cert-driver/platform-contract': fileURLToPath(
    new URL('./server/src/platform/contract/index.ts', import.meta.url),
  ),
};

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['server/**/*.test.ts', 'platform/**/*.test.ts', 'dashboard/src/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
