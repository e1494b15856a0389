import { test, expect } from "./fixtures";

test("manifest, icons and security headers are served", async ({ request }) => {
  const manifest = await request.get("/manifest.webmanifest");
  expect(manifest.ok()).toBeTruthy();
  const m = await manifest.json();
  expect(m.lang).toBe("zh-CN");
  expect(m.display).toBe("standalone");
  for (const icon of m.icons) {
    const r = await request.get(icon.src);
    expect(r.ok(), icon.src).toBeTruthy();
    expect(r.headers()["content-type"]).toBe("image/png");
  }
  const page = await request.get("/login");
  expect(page.headers()["cache-control"]).toBe("no-cache");
  expect(page.headers()["x-content-type-options"]).toBe("nosniff");
  const sw = await request.get("/sw.js");
  expect(sw.headers()["cache-control"]).toBe("no-cache");
  expect(await sw.text()).not.toContain("__BUILD__");
});

test("hashed assets are immutable and precompressed", async ({ page, request }) => {
  await page.goto("/login");
  const css = await page.locator('link[rel="stylesheet"]').getAttribute("href");
  expect(css).toMatch(/^\/pkg\/style-[0-9a-f]{12}\.css$/);
  const r = await request.get(css!, { headers: { "Accept-Encoding": "br" } });
  expect(r.headers()["cache-control"]).toContain("immutable");
  expect(r.headers()["content-encoding"]).toBe("br");
});

test("the service worker serves the offline page when the network is gone", async ({ page, context }) => {
  await page.goto("/login");
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  // the worker controls pages loaded after it activated
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBeTruthy();
  await context.setOffline(true);
  await page.goto("/announcements").catch(() => {});
  await expect(page.getByRole("heading", { name: "网络不可用" })).toBeVisible();
  await context.setOffline(false);
  await page.goto("/login");
  await expect(page.getByRole("button", { name: "获取验证码" })).toBeVisible();
});

test("inside WeChat a one-line hint explains how to install", async ({ browser }) => {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    userAgent:
      "Mozilla/5.0 (Linux; Android 13; V2220A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN",
  });
  const page = await context.newPage();
  await page.goto("/login");
  await expect(page.getByRole("note")).toContainText("在浏览器打开");
  // and the login still works there
  await expect(page.getByRole("button", { name: "获取验证码" })).toBeVisible();
  // the hint can be closed for good: back on the same page, and gone on the next ones
  await page.goto("/login?next=/bills");
  await page.getByRole("button", { name: "不再提示" }).click();
  await expect(page).toHaveURL(/\/login\?next=(%2F|\/)bills$/);
  await expect(page.getByRole("note")).toHaveCount(0);
  await page.goto("/votes/receipt");
  await expect(page.getByRole("note")).toHaveCount(0);
  await context.close();
});
