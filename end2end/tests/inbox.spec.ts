import { test, expect } from "./fixtures";
import { loginWithCode, loginWithPassword } from "./helpers";

test("a notice published by staff lights the resident's inbox badge live, and opening it clears it", async ({ page, browser }) => {
  await loginWithCode(page, "13800000001");
  // other tests share this server and may have notified this resident already
  await page.goto("/inbox");
  const markAll = page.getByRole("button", { name: "全部标为已读" });
  if (await markAll.count()) {
    await markAll.click();
    await expect(page.locator("#inbox-summary")).toContainText("0 条未读");
  }
  await page.goto("/announcements");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1");
  const badge = page.locator(".tabbar .badge");
  await expect(badge).toBeHidden();

  // staff publish from their own browser
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
  const staff = await context.newPage();
  await loginWithPassword(staff, "13900000002");
  await staff.getByLabel("标题").fill("明早8点小区停水");
  await staff.getByLabel("正文").fill("因管道检修,明早8点至12点停水,请提前储水。");
  await staff.getByRole("button", { name: "发布" }).click();
  await expect(staff.getByText("公告已发布")).toBeVisible();
  await context.close();

  // no reload: the badge counts it over server-sent events
  await expect(badge).toBeVisible({ timeout: 15_000 });
  await expect(badge).toHaveText("1");

  await page.getByRole("link", { name: /消息/ }).click();
  await expect(page).toHaveURL(/\/inbox$/);
  const item = page.locator("li.unread", { hasText: "明早8点小区停水" });
  await expect(item).toBeVisible();
  await page.screenshot({ path: "test-results/inbox.png", fullPage: true });
  await item.getByRole("link").click();
  await expect(page.getByRole("heading", { name: "明早8点小区停水" })).toBeVisible();
  await expect(badge).toBeHidden();
});

test("notification settings work without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const page = await context.newPage();
  await loginWithPassword(page, "13900000003");
  await page.goto("/inbox/settings");
  await page.getByLabel("社区公告 推送").uncheck();
  await page.getByLabel("预约提醒 短信").check();
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page.getByText("设置已保存")).toBeVisible();
  await expect(page.getByLabel("社区公告 推送")).not.toBeChecked();
  await expect(page.getByLabel("预约提醒 短信")).toBeChecked();
  await context.close();
});

test("the settings page says plainly whether this device can get push", async ({ page, browser }) => {
  await loginWithCode(page, "13800000001");
  await page.goto("/inbox/settings");
  // Chromium supports Web Push: the page offers to turn it on
  await expect(page.locator("#push .push-status")).toHaveText("本设备尚未开启推送。");
  await expect(page.getByRole("button", { name: "开启推送" })).toBeVisible();

  // inside WeChat there is no push: said plainly, the inbox is the way
  const wechat = await browser.newContext({
    userAgent: "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 Chrome/116 Mobile Safari/537.36 MicroMessenger/8.0.47",
    viewport: { width: 390, height: 844 }, locale: "zh-CN",
  });
  const wx = await wechat.newPage();
  await loginWithPassword(wx, "13900000003");
  await wx.goto("/inbox/settings");
  await expect(wx.getByText("微信内置浏览器无法接收推送通知")).toBeVisible();
  await expect(wx.getByRole("button", { name: "开启推送" })).toHaveCount(0);
  await wechat.close();
});

test("a notice scheduled for a past time is refused in words and the draft is kept, without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const page = await context.newPage();
  await loginWithPassword(page, "13900000002");
  await page.goto("/staff");
  await page.getByLabel("标题").fill("过去的时间");
  await page.getByLabel("正文").fill("正文内容");
  await page.getByLabel(/定时发布/).fill("2020-01-01T08:00");
  await page.getByRole("button", { name: "发布" }).click();
  await expect(page.getByRole("alert")).toContainText("时间有误");
  await expect(page.getByLabel("标题")).toHaveValue("过去的时间");
  await expect(page.getByLabel("正文")).toHaveValue("正文内容");
  await expect(page.getByLabel(/定时发布/)).toHaveValue("2020-01-01T08:00");
  await context.close();
});
