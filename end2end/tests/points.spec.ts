import { test, expect } from "./fixtures";
import { expectNoHorizontalOverflow, loginWithCode, loginWithPassword } from "./helpers";

test("a resident redeems points in the mall without JavaScript and staff hand the item over", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const page = await context.newPage();
  await loginWithCode(page, "13800000001");
  await page.locator("ul.tiles").getByRole("link", { name: "积分超市" }).click();
  await expect(page.locator(".amount.big")).toHaveText("60");
  await expect(page.locator(".ledger")).toContainText("社区环境清洁志愿服务 · 3 小时");
  const bag = page.locator("li.item", { hasText: "环保购物袋" });
  const haircut = page.locator("li.item", { hasText: "理发券" });
  await expect(haircut.getByRole("button")).toHaveText("积分不足");
  await expect(haircut.getByRole("button")).toBeDisabled();
  await bag.getByRole("button", { name: "兑换" }).click();
  await expect(page.getByRole("status")).toContainText("兑换成功");
  await expect(page.locator(".amount.big")).toHaveText("40");
  const code = (await page.locator(".redemption .receipt-code").first().textContent())!.trim();
  expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  await expect(page.locator(".ledger li").first()).toContainText("-20");
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/points-redeemed.png", fullPage: true });

  const staffContext = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const staff = await staffContext.newPage();
  await loginWithPassword(staff, "13900000002");
  await staff.goto("/staff/points");
  await staff.getByLabel("领取码").fill(code);
  await staff.getByRole("button", { name: "确认领取" }).click();
  await expect(staff.getByRole("status")).toContainText("已领取:环保购物袋");
  await expectNoHorizontalOverflow(staff);
  await staff.screenshot({ path: "test-results/points-staff.png", fullPage: true });
  await staffContext.close();

  await page.reload();
  await expect(page.locator(".redemption .status").first()).toHaveText("已领取");
  await context.close();
});
