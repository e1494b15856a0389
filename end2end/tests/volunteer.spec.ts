import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";
import { expectNoHorizontalOverflow, loginWithCode, loginWithPassword } from "./helpers";

/** The path and query of the code the organiser's screen shows now. */
async function scannedPath(organiser: Page): Promise<string> {
  const url = await organiser.locator("#qr").getAttribute("data-url");
  const u = new URL(url!);
  return u.pathname + u.search;
}

/** A `datetime-local` value moved by some minutes (read as naive time). */
function shift(value: string, minutes: number): string {
  const d = new Date(value + ":00Z");
  return new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, 16);
}

test("a volunteer signs up, checks in and out with the organiser's rotating QR code and sees the points arrive", async ({ browser }) => {
  // the volunteer's phone, without JavaScript: everything is a plain form
  const volunteerContext = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const volunteer = await volunteerContext.newPage();
  await loginWithCode(volunteer, "13800000001");
  await volunteer.goto("/volunteer");
  const card = volunteer.locator("li.activity", { hasText: "社区环境清洁日" });
  await card.getByRole("button", { name: "报名" }).click();
  await expect(volunteer.getByRole("status")).toContainText("报名成功");
  // it is already under way: no "we will remind you", but go now
  await expect(volunteer.getByRole("status")).toContainText("活动已经开始了");
  await expect(card.locator(".status")).toHaveText("已报名");
  // the page jumped to the activity, whose title is not under the sticky header
  const header = (await volunteer.locator("header.topbar").boundingBox())!;
  const title = (await card.locator("h3").boundingBox())!;
  expect(title.y).toBeGreaterThanOrEqual(header.y + header.height);
  await expectNoHorizontalOverflow(volunteer);

  // the organiser's phone shows the code, which counts down and changes by itself
  const organiserContext = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const organiser = await organiserContext.newPage();
  await loginWithPassword(organiser, "13900000002");
  await organiser.goto("/staff/volunteer");
  await organiser.getByRole("link", { name: "社区环境清洁日" }).click();
  await expect(organiser.locator("#qr svg")).toBeVisible();
  await expect(organiser.locator("html")).toHaveAttribute("data-hydrated", "1");
  const left = Number(await organiser.locator("#qr-left").textContent());
  await expect.poll(async () => Number(await organiser.locator("#qr-left").textContent())).toBeLessThan(left);
  await expectNoHorizontalOverflow(organiser);
  await organiser.screenshot({ path: "test-results/volunteer-code.png", fullPage: true });

  // scanning opens the check-in page; one tap checks in
  await volunteer.goto(await scannedPath(organiser));
  await volunteer.getByRole("button", { name: "确认签到" }).click();
  await expect(volunteer.getByRole("status")).toContainText("签到成功");
  await expect(card.locator(".attendance")).toContainText("待组织者确认时长");
  // a tampered code is refused with a clear message
  await volunteer.goto((await scannedPath(organiser)).replace(/s=[0-9a-f]{4}/, "s=ffff"));
  await expect(volunteer.locator(".form-error")).toBeVisible();

  await organiser.getByRole("link", { name: "签退", exact: true }).click();
  await expect(organiser.locator("#qr")).toHaveAttribute("data-dir", "out");
  await volunteer.goto(await scannedPath(organiser));
  await volunteer.getByRole("button", { name: "确认签退" }).click();
  await expect(volunteer.getByRole("status")).toContainText("签退成功");

  // the organiser corrects the times (a real hour of work) and confirms
  await organiser.goto(organiser.url().split("?")[0]);
  const row = organiser.locator("li.attendance-row").first();
  const checkIn = row.locator("input[name=check_in]");
  const inValue = await checkIn.inputValue();
  await checkIn.fill(shift(inValue, -60));
  await row.locator("input[name=check_out]").fill(shift(inValue, 60));
  await row.getByRole("button", { name: "更正时间" }).click();
  await expect(organiser.getByRole("status")).toContainText("时间已更正");
  await expect(organiser.locator("li.attendance-row .preview").first()).toContainText("确认后记");
  await organiser.locator("li.attendance-row").first().getByRole("button", { name: "确认时长" }).click();
  await expect(organiser.getByRole("status")).toContainText("已确认时长");
  await expect(organiser.locator("li.attendance-row .status").first()).toContainText(/已确认 .+ · \+\d+ 积分/);
  await organiserContext.close();

  // the points arrive in the volunteer's ledger
  await volunteer.goto("/points");
  const entry = volunteer.locator(".ledger li", { hasText: "社区环境清洁日" });
  await expect(entry).toContainText("志愿服务");
  await expect(entry.locator(".points.plus")).toHaveText(/^\+\d+$/);
  await volunteer.goto("/volunteer");
  await expect(card.locator(".attendance")).toContainText("已确认");
  await volunteer.getByRole("button", { name: "开具志愿服务证明" }).click();
  await expect(volunteer.locator(".certificate")).toContainText("社区环境清洁日");
  const code = (await volunteer.locator(".certificate .receipt-code").textContent())!.trim();
  expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  await expectNoHorizontalOverflow(volunteer);
  await volunteer.screenshot({ path: "test-results/volunteer-certificate.png", fullPage: true });
  await volunteerContext.close();

  // anyone holding the code can check the certificate
  const anyone = await browser.newPage();
  await anyone.goto(`/volunteer/certificate/${code}`);
  await expect(anyone.locator(".certificate")).toContainText("志愿服务证明");
  await expect(anyone.locator(".certificate .receipt-code")).toHaveText(code);
  await anyone.close();
});

test("staff approve a resident as organiser, who then publishes an activity from their phone", async ({ browser }) => {
  const staffContext = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const staff = await staffContext.newPage();
  await loginWithPassword(staff, "13900000002");
  await staff.goto("/staff/volunteer");
  const card = staff.locator("section", { has: staff.getByRole("heading", { name: "志愿活动组织者" }) });
  await card.getByLabel("居民手机号").fill("13800000001");
  await card.getByRole("button", { name: "批准为组织者" }).click();
  await expect(staff.getByRole("status")).toContainText("已批准为组织者");
  await expect(staff.locator("section", { has: staff.getByRole("heading", { name: "志愿活动组织者" }) })).toContainText("138****0001");
  await staffContext.close();

  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const page = await context.newPage();
  await loginWithCode(page, "13800000001");
  await page.goto("/volunteer");
  const form = page.locator("section", { has: page.getByRole("heading", { name: "发布志愿活动" }) });
  await expect(form.getByLabel(/组织者手机号/)).toHaveCount(0);
  await form.getByLabel("活动名称").fill("楼道读书角整理");
  await form.getByLabel("地点").fill("2号楼一楼大厅");
  await form.getByRole("button", { name: "发布" }).click();
  await expect(page.getByRole("status")).toContainText("活动已发布");
  await expect(page.locator("h2").first()).toHaveText("楼道读书角整理");
  await expect(page.locator(".qr-card")).toContainText("签到尚未开始");
  await expectNoHorizontalOverflow(page);
  await context.close();
});
