import { test, expect } from "./fixtures";
import { expectNoHorizontalOverflow, loginWithCode, loginWithPassword } from "./helpers";

test("首页 shows what is waiting, the services as icons and the numbers to call; 我的 links to everything of mine", async ({ page, browser }) => {
  await loginWithCode(page, "13800000001");
  await page.goto("/");
  const todo = page.locator("ul.todo");
  // the amount due, on one line, and a link to pay it
  await expect(todo.getByRole("link", { name: /张账单待缴/ })).toBeVisible();
  await expect(todo.locator(".amount").first()).toHaveText(/^¥[\d,]+\.\d{2}$/);
  await expect(todo.getByRole("link", { name: /等您投票/ })).toBeVisible();
  // services: large icons with labels, each its own link
  const tiles = page.locator("ul.tiles");
  for (const name of ["预约办事", "生活缴费", "随手拍", "入户报修", "志愿服务", "积分超市", "议事协商", "投票表决"]) {
    await expect(tiles.getByRole("link", { name })).toBeVisible();
  }
  // the community's numbers, one tap to call
  const office = page.locator("ul.phones a", { hasText: "阳光社区居委会" });
  await expect(office).toHaveAttribute("href", "tel:057188881201");
  await expect(page.locator("ul.phones a", { hasText: "阳光物业服务中心" })).toHaveAttribute("href", "tel:057186662301");
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/home-resident.png", fullPage: true });
  // 入户报修 opens the report form with that category chosen
  await tiles.getByRole("link", { name: "入户报修" }).click();
  await expect(page.getByLabel("类别")).toHaveValue("home_repair");

  await page.goto("/me");
  for (const name of ["我的预约", "缴费和收据", "我的上报", "志愿记录", "我的积分", "我的投票", "我的房屋和家人", "通知设置"]) {
    await expect(page.locator("ul.tiles").getByRole("link", { name })).toBeVisible();
  }
  // logging out asks once
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1");
  await page.getByText("退出登录", { exact: true }).click();
  await expect(page.getByText("确定要退出登录吗")).toBeVisible();
  await page.getByRole("button", { name: "不退出" }).click();
  await expect(page.getByText("确定要退出登录吗")).toBeHidden();
  await expect(page).toHaveURL(/\/me$/);

  // staff set the numbers on the console; a bad number is refused in words, with what was typed kept
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const staff = await context.newPage();
  await loginWithPassword(staff, "13900000002");
  await staff.goto("/staff#contacts");
  const form = staff.locator("#contacts form").first();
  await form.getByLabel("居委会电话").fill("打电话");
  await form.getByRole("button", { name: "保存" }).click();
  await expect(staff.locator("#contacts").getByRole("alert")).toContainText("电话号码只能有数字");
  await expect(staff.locator("#contacts form").first().getByLabel("居委会电话")).toHaveValue("打电话");
  await staff.locator("#contacts form").first().getByLabel("居委会电话").fill("0571-8888 1299");
  await staff.locator("#contacts form").first().getByRole("button", { name: "保存" }).click();
  await expect(staff.locator("#contacts").getByRole("status")).toContainText("已保存");
  await context.close();
  await page.goto("/");
  await expect(page.locator("ul.phones a", { hasText: "阳光社区居委会" })).toHaveAttribute("href", "tel:057188881299");
});

test("login: the code field stays, and 重新获取验证码 waits with a count-down until a new code may be sent", async ({ page }) => {
  await page.goto("/login?phone=13800000009&sent=1&cd=3&next=%2F");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1");
  await expect(page.getByLabel("验证码")).toBeVisible();
  const resend = page.getByRole("button", { name: "重新获取验证码" });
  await expect(resend).toBeDisabled();
  await expect(page.locator(".countdown")).toHaveText(/^[1-3] 秒后可以重新获取$/);
  await expect(resend).toBeEnabled({ timeout: 6_000 });
  await expect(page.locator(".countdown")).toBeHidden();
});
