import { test, expect } from "./fixtures";
import * as fs from "fs";
import { expectNoHorizontalOverflow, loginWithPassword } from "./helpers";

test("staff set a patrol plan, and the figures explain themselves item by item", async ({ page }) => {
  // 和谐社区's staff plan a route for their grid worker (a new name each try:
  // a retry must not find the first try's route)
  const routeName = `考核测试线${Date.now() % 100000}`;
  await loginWithPassword(page, "13900000003");
  await page.waitForURL("**/staff");
  await page.goto("/staff/patrol");
  const create = page.locator("form", { has: page.getByRole("button", { name: "创建" }) });
  await create.getByLabel("线路名称").fill(routeName);
  await create.getByRole("button", { name: "创建" }).click();
  await expect(page.getByText("线路已创建")).toBeVisible();
  const card = page.locator("section.route", { has: page.getByRole("heading", { name: routeName }) });
  await card.getByText("新建计划").click();
  const plan = card.locator("form.plan-form");
  // a window that ends before it starts is refused, with what was typed kept
  await plan.getByLabel("开始(时:分)").fill("18:00");
  await plan.getByLabel("结束(时:分)").fill("17:00");
  await plan.getByRole("button", { name: "保存计划" }).click();
  await expect(page.getByText("巡逻计划无效")).toBeVisible();
  const again = page.locator("section.route", { has: page.getByRole("heading", { name: routeName }) }).locator("form.plan-form");
  await expect(again.getByLabel("开始(时:分)")).toHaveValue("18:00");
  await again.getByLabel("结束(时:分)").fill("20:00");
  await again.getByLabel("周六").check();
  await again.getByRole("button", { name: "保存计划" }).click();
  await expect(page.getByText("巡逻计划已保存")).toBeVisible();
  await expect(page.locator("section.route", { has: page.getByRole("heading", { name: routeName }) }).getByText("刘洋 · 周一至周六 18:00–20:00")).toBeVisible();

  // 阳光社区's staff look at their figures: the demo plan of 张伟 required visits
  await page.context().clearCookies();
  await loginWithPassword(page, "13900000002");
  await page.waitForURL("**/staff");
  await page.getByRole("link", { name: "考核指标" }).click();
  await expect(page.getByRole("heading", { name: "网格员", exact: true })).toBeVisible();
  await expectNoHorizontalOverflow(page);
  const row = page.locator("tr", { has: page.getByRole("rowheader", { name: /张伟/ }) });
  const presence = row.locator("td.presence");
  const basis = (await presence.locator("small").textContent())!.trim();
  const [done, required] = basis.split(" / ").map(Number);
  expect(required).toBeGreaterThan(0);
  expect(done).toBeGreaterThanOrEqual(3); // the demo walk checked in at three checkpoints
  await presence.getByRole("link").click();
  const drill = page.locator("#drill");
  await expect(drill.getByRole("heading")).toContainText("到位率");
  await expect(drill.locator("li")).toHaveCount(required);
  await expect(drill.locator("li.good")).toHaveCount(done);
  await expect(drill.getByText("有效签到").first()).toBeVisible();
  // another figure: satisfaction of the community, from the demo's rated incident
  await page.locator('tr[data-subject^="community:"]', { has: page.getByRole("rowheader", { name: "阳光社区", exact: true }) }).locator("td.satisfaction a").click();
  await expect(page.locator("#drill").getByRole("heading")).toContainText("满意度");
  await expect(page.locator("#drill li").first()).toContainText("★");

  // the CSV says the same
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "导出 CSV" }).click()]);
  const csv = fs.readFileSync((await download.path())!, "utf8");
  const line = csv.split("\n").find((l) => l.startsWith("网格员,张伟"))!;
  expect(line).toContain(`${done} / ${required}`);
  // and a bad period is refused in words, the dates typed kept
  await page.goto("/staff/figures?from=2026-12-31&to=2026-01-01");
  await expect(page.getByText("统计期间无效")).toBeVisible();
  await expect(page.getByLabel("开始日期")).toHaveValue("2026-12-31");
});
