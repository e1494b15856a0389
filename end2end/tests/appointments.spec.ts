import { test, expect } from "./fixtures";
import { expectNoHorizontalOverflow, loginWithCode, loginWithPassword } from "./helpers";

test("without JavaScript a resident books, shows the QR code, and the desk marks arrival", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const page = await context.newPage();
  await loginWithCode(page, "13800000001");
  await page.getByRole("link", { name: "预约", exact: true }).click();
  await expect(page.getByRole("heading", { name: "可预约事项" })).toBeVisible();
  await page.getByRole("link", { name: /法律咨询/ }).click();
  await expect(page.getByText("请提前准备好相关材料")).toBeVisible();
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/appointment-item.png", fullPage: true });
  await page.locator("li.slot").filter({ has: page.getByRole("button", { name: "预约" }) }).first()
    .getByRole("button", { name: "预约" }).click();
  await expect(page.getByText("预约成功")).toBeVisible();
  await expect(page.locator("figure.qr svg")).toBeVisible();
  const code = (await page.locator("figure.qr .code").textContent())!.trim();
  expect(code).toMatch(/^[2-9A-Z]{8}$/);
  await expect(page.getByRole("link", { name: "添加到日历" })).toHaveAttribute("href", /calendar\.ics$/);
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/appointment-booked.png", fullPage: true });
  const bookingUrl = page.url().split("?")[0];

  // the desk: the QR code's link (or the typed code) finds the booking
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
  const staff = await desk.newPage();
  await loginWithPassword(staff, "13900000002");
  await staff.goto("/staff/appointments/queue");
  await staff.getByLabel("扫码或输入预约码").fill(code.toLowerCase());
  await staff.getByRole("button", { name: "查找" }).click();
  const entry = staff.locator("li.queue-entry", { hasText: code });
  await expect(entry).toContainText("138****0001");
  await entry.getByRole("button", { name: "到场" }).click();
  await expect(staff.getByText("已登记。")).toBeVisible();
  await expect(staff.locator("li.queue-entry", { hasText: code })).toContainText("已到场");
  await desk.close();

  await page.goto(bookingUrl);
  await expect(page.locator(".booking .status")).toHaveText("已到场");
  await context.close();
});

test("staff set up an item; a cancellation inside the notice period is refused with the reason", async ({ page, browser }) => {
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
  const staff = await desk.newPage();
  await loginWithPassword(staff, "13900000002");
  await staff.getByRole("link", { name: "预约", exact: true }).click();
  const name = `居住证明开具 ${Date.now() % 100000}`;
  const form = staff.locator("form", { has: staff.getByRole("button", { name: "保存事项" }) });
  await form.getByLabel("事项名称").fill(name);
  await form.getByLabel("办理地点").fill("阳光社区服务大厅 2号窗口");
  await form.getByLabel("所有人").check();
  await form.getByLabel("最少提前预约(小时)").fill("0");
  // later than any slot in the 7-day window: every booking is past its deadline at once
  await form.getByLabel("最晚取消/改约(开始前小时数)").fill("200");
  await form.getByLabel("限约次数(空为不限)").fill("");
  await form.getByRole("button", { name: "保存事项" }).click();
  await expect(staff.getByText("已保存。")).toBeVisible();
  // hours every day; the slots appear at once
  for (const d of ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]) {
    await staff.getByLabel(d).check();
  }
  await staff.getByLabel("开始", { exact: true }).fill("08:00");
  await staff.getByLabel("结束", { exact: true }).fill("20:00");
  await staff.getByLabel("每段分钟").fill("60");
  await staff.getByLabel("每段名额").fill("2");
  await staff.getByRole("button", { name: "添加开放时间" }).click();
  await expect(staff.getByText(/新生成时段 \d+/)).toBeVisible();
  await expect(staff.locator("table.grid tbody tr").first()).toContainText("0/2");
  await staff.screenshot({ path: "test-results/appointment-staff-item.png", fullPage: true });
  await desk.close();

  await loginWithCode(page, "13800000002");
  await page.goto("/appointments");
  await page.getByRole("link", { name: new RegExp(name) }).click();
  await page.locator("li.slot").filter({ has: page.getByRole("button", { name: "预约" }) }).first()
    .getByRole("button", { name: "预约" }).click();
  await expect(page.getByText("预约成功")).toBeVisible();
  await expect(page.getByText("已过取消截止时间,不能在线取消或改约")).toBeVisible();
  // it asks once before cancelling
  await page.getByText("取消预约", { exact: true }).click();
  await expect(page.getByText("确定要取消这次预约吗")).toBeVisible();
  await page.getByRole("button", { name: "确定取消" }).click();
  await expect(page.getByRole("alert")).toContainText("已过取消截止时间");
  await expect(page.locator(".booking .status")).toHaveText("已预约");
  // the inbox has the booking, with its link
  const booking = page.url();
  await page.goto("/inbox");
  const item = page.locator("ul.inbox li", { hasText: `预约成功:${name}` }).first();
  await expect(item).toContainText("预约码");
  await item.getByRole("link").click();
  await expect(page).toHaveURL(booking.split("?")[0]);
});
