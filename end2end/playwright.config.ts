import { defineConfig, devices } from "@playwright/test";
import * as os from "os";
import * as path from "path";

const PORT = Number(process.env.E2E_PORT ?? 3100);
const dataDir = path.join(os.tmpdir(), `zhsq-e2e-${process.pid}`);

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  retries: process.env.CI ? 1 : 0,
  workers: 1,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 390, height: 844 },
    locale: "zh-CN",
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 1,
        headless: true,
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: {
    command: `rm -rf ${dataDir} && ../target/debug/zhsq`,
    url: `http://127.0.0.1:${PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    env: {
      BIND: `127.0.0.1:${PORT}`,
      DATA_DIR: dataDir,
      DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
      DEMO_DATA: "true",
      SITE_ROOT: "../target/site",
      LOG: "warn",
      CODE_RESEND_SECONDS: "0",
      CODES_PER_HOUR: "1000",
    },
  },
});
