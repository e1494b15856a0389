import { test, expect } from "./fixtures";
import { expectNoHorizontalOverflow, loginWithCode, loginWithPassword } from "./helpers";

test("a resident sees what the household owes and how it was computed", async ({ page }) => {
  await loginWithCode(page, "13800000001");
  await page.getByRole("link", { name: "缴费", exact: true }).click();
  await expect(page.getByRole("heading", { name: "待缴合计" })).toBeVisible();
  await expect(page.locator(".amount.big")).toHaveText(/^¥[\d,]+\.\d\d$/);
  const bill = page.locator("li.bill", { hasText: "2026年下半年物业费" });
  await expect(bill).toContainText("m² × ¥1.85/m²/月 × 6 个月");
  await expect(bill).toContainText("待缴");
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/bills-resident.png", fullPage: true });
});

test("staff see arrears per building and a bad price is explained", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await loginWithPassword(page, "13900000003");
  await page.getByRole("link", { name: "缴费", exact: true }).click();
  await expect(page.locator("table.grid")).toContainText("和谐社区");
  const generate = () => page.locator("form", { has: page.getByRole("button", { name: "生成账单" }) });
  await generate().getByLabel(/账期/).fill("2027");
  await generate().getByLabel(/单价/).fill("2.1.0");
  await generate().getByRole("button", { name: "生成账单" }).click();
  await expect(page.getByRole("alert")).toContainText("金额格式不正确");
  await expect(generate().getByLabel(/账期/)).toHaveValue("2027");

  // one ad-hoc fee for one home
  const fee = page.locator("form", { has: page.getByRole("button", { name: "添加费用" }) });
  await fee.getByLabel("楼栋").fill("1号楼");
  await fee.getByLabel("单元").fill("1单元");
  await fee.getByLabel("房号").fill("101");
  await fee.getByLabel("类型").selectOption("停车费");
  await fee.getByLabel("账期").fill("2026-12");
  await fee.getByLabel("金额(元)").fill("150");
  await fee.getByRole("button", { name: "添加费用" }).click();
  await expect(page.getByRole("status")).toContainText("已添加费用 ¥150.00");
  await page.screenshot({ path: "test-results/bills-staff.png", fullPage: true });
});
