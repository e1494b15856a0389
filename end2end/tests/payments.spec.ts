import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";
import { expectNoHorizontalOverflow, loginWithCode, loginWithPassword } from "./helpers";

/** On /bills: both bills (property fee and water) selected, paid in the sandbox with `choice`. */
async function payTwoBills(page: Page, choice: string | RegExp, shot: string) {
  await page.goto("/bills");
  const form = page.locator("form", { has: page.getByRole("button", { name: "缴纳所选账单" }) });
  const property = form.locator("li.bill", { hasText: "2026年下半年物业费" });
  const water = form.locator("li.bill", { hasText: "2026年10月水费" });
  await expect(property.getByRole("checkbox")).toBeChecked();
  await expect(water.getByRole("checkbox")).toBeChecked();
  // nothing ticked: the error says what to do, beside the bills, and nothing comes back ticked
  const boxes = form.getByRole("checkbox");
  const n = await boxes.count();
  for (let i = 0; i < n; i++) await boxes.nth(i).uncheck();
  await form.getByRole("button", { name: "缴纳所选账单" }).click();
  await expect(form.getByRole("alert")).toHaveText("还没有选账单:请先勾选要缴的账单,再点缴费");
  await expect(property.getByRole("checkbox")).not.toBeChecked();
  for (let i = 0; i < n; i++) await boxes.nth(i).check();
  const total = await page.locator(".amount.big").textContent();
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: `test-results/pay-bills-${shot}.png`, fullPage: true });
  await form.getByRole("button", { name: "缴纳所选账单" }).click();
  // the provider's page (the sandbox cashier)
  await expect(page.getByText("沙箱支付 · 模拟微信支付")).toBeVisible();
  await expect(page.locator(".amount")).toHaveText(total!.trim());
  await expectNoHorizontalOverflow(page);
  await page.getByRole("button", { name: choice, exact: typeof choice === "string" }).click();
  await expect(page).toHaveURL(/\/pay\/orders\/ZH\d+$/);
  // confirming until the provider says so; the page refreshes itself
  await expect(page.locator(".order .status")).toHaveText("已支付", { timeout: 20_000 });
  await expect(page.locator(".order .amount.big")).toHaveText(total!.trim());
  await page.getByRole("link", { name: "查看收据" }).click();
  await expect(page.getByRole("heading", { name: /缴费收据/ })).toBeVisible();
  const receipt = page.locator("article.receipt");
  await expect(receipt).toContainText("2026年下半年物业费");
  await expect(receipt).toContainText("2026年10月水费");
  await expect(receipt.locator("figure.qr svg")).toBeVisible();
  const code = (await receipt.locator("dd.code").textContent())!.trim();
  expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: `test-results/pay-receipt-${shot}.png`, fullPage: true });
  await page.goto("/bills");
  await expect(page.getByText("账单都已缴清。")).toBeVisible();
  return code;
}

test("without JavaScript a resident pays two bills in the sandbox and gets a receipt anyone can check", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const page = await context.newPage();
  await loginWithCode(page, "13800000001");
  const code = await payTwoBills(page, "支付成功", "nojs");
  await context.close();

  const anyone = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const check = await anyone.newPage();
  await check.goto("/receipts/check");
  await check.getByLabel("收据编号").fill(code.toLowerCase());
  await check.getByRole("button", { name: "核验" }).click();
  await expect(check.getByRole("status")).toHaveText("收据真实有效");
  await expect(check.locator("dl.facts")).toContainText("阳光社区");
  await check.getByLabel("收据编号").fill("2222-3333-4444");
  await check.getByRole("button", { name: "核验" }).click();
  await expect(check.getByRole("alert")).toContainText("没有找到这张收据");
  await anyone.close();
});

test("with JavaScript a resident pays with a late notification; staff refund part of it", async ({ page, browser }) => {
  await loginWithCode(page, "13800000002");
  await payTwoBills(page, /通知延迟/, "late");

  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
  const staff = await desk.newPage();
  await loginWithPassword(staff, "13900000003");
  await staff.goto("/staff/bills");
  const order = staff.locator("li.order").first();
  await expect(order).toContainText("138****0002");
  const line = order.locator(".line", { hasText: "2026年10月水费" });
  await line.getByRole("textbox", { name: "退款金额(元)" }).fill("9999");
  await line.getByRole("textbox", { name: "退款原因" }).fill("水表读数有误");
  await line.getByRole("button", { name: "退款" }).click();
  await expect(staff.getByRole("alert")).toContainText("退款金额不能超过");
  const again = staff.locator("li.order").first().locator(".line", { hasText: "2026年10月水费" });
  await expect(again.getByRole("textbox", { name: "退款原因" })).toHaveValue("水表读数有误");
  await again.getByRole("textbox", { name: "退款金额(元)" }).fill("5.00");
  await again.getByRole("button", { name: "退款" }).click();
  await expect(staff.getByRole("status")).toContainText("已退款 ¥5.00");
  await expect(staff.locator("li.order").first()).toContainText("已退 ¥5.00");
  await desk.close();

  await page.goto("/inbox");
  await expect(page.getByText(/退款 ¥5\.00/).first()).toBeVisible();
});
