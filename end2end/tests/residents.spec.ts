import { test, expect } from "./fixtures";
import { loginWithCode, loginWithPassword } from "./helpers";

test("a newcomer asks to be bound to a home and staff approve it", async ({ page, browser }) => {
  const phone = "13698765432";
  await loginWithCode(page, phone);
  await expect(page.getByText("尚未绑定社区住址")).toBeVisible();
  await page.getByRole("link", { name: "去认证" }).click();
  await page.getByLabel("社区").selectOption({ label: "阳光社区" });
  await page.getByRole("button", { name: "下一步" }).click();
  await page.getByLabel("楼栋").selectOption({ label: "2号楼" });
  await page.getByRole("button", { name: "下一步" }).click();
  await page.getByLabel("房号").selectOption({ label: "2单元 302" });
  await page.getByLabel("业主", { exact: true }).check();
  await page.getByRole("button", { name: "提交申请" }).click();
  // forgot the area: told why, choices kept
  await expect(page.getByRole("alert")).toContainText("面积格式不正确");
  await expect(page.getByLabel("房号")).toHaveValue(/\d+/);
  await page.getByLabel(/产权面积/).fill("96.3");
  await page.getByRole("button", { name: "提交申请" }).click();
  await expect(page.getByText("申请已提交")).toBeVisible();
  await expect(page.getByText("待审核")).toBeVisible();

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
  const staff = await context.newPage();
  await loginWithPassword(staff, "13900000002");
  await staff.getByRole("link", { name: "住户认证", exact: true }).click();
  const item = staff.locator("li.residence", { hasText: "136****5432" });
  await expect(item).toContainText("2号楼 2单元 302");
  await expect(item).toContainText("96.30 m²");
  await item.getByRole("button", { name: "通过" }).click();
  await expect(staff.getByText("已通过。")).toBeVisible();
  await context.close();

  await page.goto("/residence");
  await expect(page.getByText("已通过")).toBeVisible();
  await page.goto("/announcements");
  await expect(page.getByText("本周六上午社区义诊活动")).toBeVisible();
});

test("staff import households from a CSV file and see every bad row", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await loginWithPassword(page, "13900000003");
  await page.goto("/staff/import");
  const bad = "网格,楼栋,单元,房号,面积\n和谐社区第一网格,20号楼,1单元,101,88.5\n和谐社区第九网格,20号楼,1单元,102,88.5\n";
  await page.getByLabel("文件").setInputFiles({ name: "住户.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
  await page.getByRole("button", { name: "校验并导入" }).click();
  await expect(page.getByText("未导入任何数据")).toBeVisible();
  await expect(page.locator("table.errors")).toContainText("本社区没有这个网格");
  const good = "网格,楼栋,单元,房号,面积\n和谐社区第一网格,20号楼,1单元,101,88.5\n和谐社区第一网格,20号楼,1单元,102,88.5\n";
  await page.getByLabel("文件").setInputFiles({ name: "住户.csv", mimeType: "text/csv", buffer: Buffer.from(good) });
  await page.getByRole("button", { name: "校验并导入" }).click();
  await expect(page.getByText("导入成功")).toBeVisible();
  await page.screenshot({ path: "test-results/staff-import.png", fullPage: true });
});
