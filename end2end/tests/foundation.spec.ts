import { test, expect } from "./fixtures";
import { loginWithCode, loginWithPassword, expectNoHorizontalOverflow } from "./helpers";

test.describe("with JavaScript", () => {
  test("the WASM client starts without errors and navigation works", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await loginWithCode(page, "13800000001");
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1");
    // a phone's tab bar holds five; the notices are linked from the home page
    await page.locator("ul.tiles").getByRole("link", { name: "社区公告" }).click();
    await expect(page).toHaveURL(/\/announcements$/);
    await expect(page.getByText("冬季用火用电安全提示")).toBeVisible();
    expect(errors).toEqual([]);
  });

  test("a resident logs in with a phone code and reads an announcement", async ({ page }) => {
    await loginWithCode(page, "13800000001");
    await expect(page.getByRole("heading", { name: /您好/ })).toBeVisible();
    const unreadBefore = Number(await page.locator(".unread-count").first().textContent());
    await page.getByRole("link", { name: /本周六上午社区义诊活动/ }).click();
    await expect(page.getByRole("heading", { name: "本周六上午社区义诊活动" })).toBeVisible();
    await expect(page.getByText("请携带医保卡")).toBeVisible();
    await page.goto("/announcements");
    await expect(page.locator(".unread-count").first()).toHaveText(String(unreadBefore - 1));
  });

  test("staff publish an announcement and a resident sees it", async ({ page, browser }) => {
    await loginWithPassword(page, "13900000002");
    await expect(page).toHaveURL(/\/staff$/);
    await page.getByLabel("标题").fill("电梯年检通知");
    await page.getByLabel("正文").fill("下周一起对1-4号楼电梯进行年检,每部电梯停运约2小时。");
    await page.getByRole("button", { name: "发布" }).click();
    await expect(page.getByText("公告已发布")).toBeVisible();

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    const resident = await context.newPage();
    await loginWithCode(resident, "13800000001");
    await resident.goto("/announcements");
    await expect(resident.getByText("电梯年检通知")).toBeVisible();
    await context.close();
  });

  test("a resident of another community does not see it", async ({ page }) => {
    await loginWithCode(page, "13800000002");
    await page.goto("/announcements");
    await expect(page.getByText("和谐社区议事会召开通知")).toBeVisible();
    await expect(page.getByText("电梯年检通知")).toHaveCount(0);
    await expect(page.getByText("本周六上午社区义诊活动")).toHaveCount(0);
  });

  test("large-text mode has no horizontal overflow", async ({ page }) => {
    await loginWithCode(page, "13800000001");
    await page.goto("/me");
    await page.getByRole("button", { name: "开启大字模式" }).click();
    await expect(page.locator("html")).toHaveClass(/large-text/);
    for (const path of ["/", "/announcements", "/me"]) {
      await page.goto(path);
      await expectNoHorizontalOverflow(page);
    }
    const fontSize = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
    expect(fontSize).toBeGreaterThanOrEqual(18);
    await page.goto("/");
    await page.screenshot({ path: "test-results/large-text-home.png", fullPage: true });
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("login and reading work with plain forms", async ({ page }) => {
    await loginWithCode(page, "13800000001");
    await expect(page.getByRole("heading", { name: /您好/ })).toBeVisible();
    // a phone's tab bar holds five; the notices are linked from the home page
    await page.locator("ul.tiles").getByRole("link", { name: "社区公告" }).click();
    await page.getByRole("link", { name: /冬季用火用电安全提示/ }).click();
    await expect(page.getByText("不私拉电线", { exact: false })).toBeVisible();
    await expectNoHorizontalOverflow(page);
  });

  test("a wrong code is explained and the number is kept", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("手机号").fill("13800000002");
    await page.getByRole("button", { name: "获取验证码" }).click();
    await page.getByLabel("验证码").fill("000000");
    await page.getByRole("button", { name: "登录" }).click();
    // either wrong, or (1 in a million) right
    if (page.url().includes("error=")) {
      await expect(page.getByRole("alert")).toContainText("验证码不正确");
      await expect(page.getByLabel("手机号")).toHaveValue("13800000002");
    }
  });

  test("staff publish with a plain form", async ({ page }) => {
    await loginWithPassword(page, "13900000003");
    await page.getByLabel("标题").fill("无脚本发布测试");
    await page.getByLabel("正文").fill("这条公告在禁用JavaScript时发布。");
    await page.getByRole("button", { name: "发布" }).click();
    await expect(page.getByText("公告已发布")).toBeVisible();
  });
});

test("the Content-Security-Policy runs our code and blocks injected code", async ({ browser, baseURL }) => {
  // its own context: the violation provoked here is the point, not a failure
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const res = await page.goto("/login");
  const csp = res!.headers()["content-security-policy"];
  expect(csp).toContain("script-src 'self' 'nonce-");
  expect(csp).not.toContain("unsafe-inline");
  // the WASM client hydrated under the policy
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1", { timeout: 15_000 });
  const injected = await page.evaluate(async () => {
    const s = document.createElement("script");
    s.textContent = "window.__injected = 1";
    document.head.append(s);
    const d = document.createElement("div");
    d.setAttribute("style", "width: 123px");
    document.body.append(d);
    await new Promise((r) => setTimeout(r, 100));
    return { script: (window as any).__injected ?? null, width: d.getBoundingClientRect().width };
  });
  expect(injected.script).toBeNull();
  expect(injected.width).not.toBe(123);
  expect(violations.length).toBeGreaterThanOrEqual(2);
  await context.close();
});
