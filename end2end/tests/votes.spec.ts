import { test, expect } from "./fixtures";
import { expectNoHorizontalOverflow, loginWithCode, loginWithPassword } from "./helpers";

test("without JavaScript a resident reads an owners' decision and a topic, comments, votes, gets a receipt and verifies it later", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const page = await context.newPage();
  await loginWithCode(page, "13800000001");
  await page.goto("/votes");
  await page.getByRole("link", { name: /1号楼加装电梯方案表决/ }).click();
  await expect(page.getByRole("heading", { name: "1号楼加装电梯方案表决" })).toBeVisible();
  // the matter and its thresholds, and the turnout (never anyone's choice)
  await expect(page.locator(".rule")).toContainText("四分之三以上");
  await expect(page.locator(".quorum-gap")).toContainText("距参与门槛还差 8 户业主");
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/vote-owners-before.png", fullPage: true });
  await page.getByLabel("同意").check();
  await page.getByRole("button", { name: "下一步:核对选择" }).click();
  // the review step (WCAG 3.3.4): the choice, what it means, and that it is final
  const review = page.locator("form.review");
  await expect(review.getByRole("heading", { name: "请核对您的选择" })).toBeVisible();
  await expect(review.locator(".chosen")).toHaveText("同意");
  await expect(review).toContainText("选票提交后不能更改");
  await expect(review).toBeInViewport();
  await review.getByRole("link", { name: "返回修改" }).click();
  await expect(page.getByLabel("同意")).toBeChecked();
  await page.getByRole("button", { name: "下一步:核对选择" }).click();
  await page.getByRole("button", { name: "确认提交选票" }).click();
  const voted = page.locator("section.voted");
  // lands on the receipt, not at the top of the page
  await expect(voted).toBeInViewport();
  await expect(voted).toContainText("您已投票:同意");
  const code = (await voted.locator(".receipt-code").textContent())!.trim();
  expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  await expect(page.locator(".quorum-gap")).toContainText("距参与门槛还差 7 户业主");
  await expect(page.getByRole("button", { name: /核对选择|提交选票/ })).toHaveCount(0);
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/vote-owners-voted.png", fullPage: true });

  // a poll that grew out of a topic: read the topic, say so, comment, then follow its link to vote
  await page.getByRole("navigation").getByRole("link", { name: "首页" }).click();
  await page.getByRole("link", { name: "议事协商" }).click();
  await page.getByRole("link", { name: /周末便民集市/ }).click();
  await expect(page.getByRole("heading", { name: "周末便民集市怎么办" })).toBeVisible();
  await page.getByRole("button", { name: "我已阅读背景材料" }).click();
  await expect(page.getByRole("status")).toContainText("参与积分 +1");
  await page.getByLabel("发表评论").fill("建议放在周六上午,方便老人。");
  await page.getByRole("button", { name: "发表", exact: true }).click();
  await expect(page.getByRole("status")).toContainText("评论已发表");
  await expect(page.locator("li.comment").last()).toContainText("建议放在周六上午");
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/topic-commented.png", fullPage: true });
  // too many choices is refused in words with the choices kept
  await page.getByRole("link", { name: /前往投票/ }).click();
  await page.getByLabel("每月第一个周六上午").check();
  await page.getByLabel("每月第一个周日上午").check();
  await page.getByLabel("每月最后一个周六下午").check();
  await page.getByRole("button", { name: "下一步:核对选择" }).click();
  await expect(page.getByRole("alert")).toContainText("请选择有效的选项");
  await expect(page.getByLabel("每月第一个周日上午")).toBeChecked();
  await page.getByLabel("每月最后一个周六下午").uncheck();
  await page.getByRole("button", { name: "下一步:核对选择" }).click();
  await expect(page.locator("form.review .chosen")).toHaveText("每月第一个周六上午、每月第一个周日上午");
  await page.getByRole("button", { name: "确认提交选票" }).click();
  await expect(page.locator("section.voted")).toContainText("您已投票:每月第一个周六上午、每月第一个周日上午");
  await expect(page.getByRole("heading", { name: "实时结果" })).toBeVisible();
  await context.close();

  // later, anyone holding the receipt checks it
  const later = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const check = await later.newPage();
  await check.goto("/votes/receipt");
  await check.getByLabel("回执编号").fill(code.toLowerCase());
  await check.getByRole("button", { name: "核验" }).click();
  await expect(check.getByRole("status")).toContainText("您的选票已计入");
  const facts = check.locator("dl.facts").first();
  await expect(facts).toContainText("同意");
  // the time in Beijing time, as everywhere else; the hashes one tap away
  await expect(facts).toContainText("(北京时间)");
  await expect(facts).not.toContainText("UTC");
  await expect(check.getByText("选票哈希")).toBeHidden();
  await check.getByText("技术细节").click();
  await expect(check.getByText("选票哈希")).toBeVisible();
  await expectNoHorizontalOverflow(check);
  await check.screenshot({ path: "test-results/vote-receipt.png", fullPage: true });
  await later.close();
});

test("staff enter a paper ballot and a second staff member confirms it before it counts", async ({ page, browser }) => {
  await loginWithPassword(page, "13900000002");
  await page.goto("/staff/votes");
  await page.getByRole("link", { name: /1号楼加装电梯方案表决/ }).click();
  await expect(page.getByText("选票链校验通过")).toBeVisible();
  const before = (await page.locator(".facts dd").first().textContent())!.trim();
  const paper = page.locator("form", { has: page.getByRole("button", { name: "录入,等待复核" }) });
  await paper.getByLabel("投票人(名册)").selectOption({ index: 0 });
  await paper.getByLabel("选择").selectOption({ label: "反对" });
  await paper.getByLabel("备注(选票编号等)").fill("纸质选票 0001");
  await paper.getByRole("button", { name: "录入,等待复核" }).click();
  await expect(page.getByRole("status")).toContainText("待另一位工作人员确认");
  await expect(page.getByText("须由另一位工作人员确认")).toBeVisible();
  await expect(page.locator(".facts dd").first()).toHaveText(before);
  await expectNoHorizontalOverflow(page);
  await page.screenshot({ path: "test-results/vote-staff-paper.png", fullPage: true });

  // the street administrator confirms it: now it counts
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const admin = await context.newPage();
  await loginWithPassword(admin, "13900000001");
  await admin.goto(page.url().split("?")[0]);
  await admin.getByRole("button", { name: "核对无误,计入" }).click();
  await expect(admin.getByRole("status")).toContainText("纸质选票已确认并计入");
  await expect(admin.locator(".facts dd").first()).not.toHaveText(before);
  await context.close();
});
