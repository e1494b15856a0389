import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";
import { ENVS, envContext, expectNoHorizontalOverflow, loginWithCode } from "./helpers";

/**
 * A resident's everyday journeys in each of the five environments residents
 * use (issue 21): Chrome on Android, WeChat on Android and iOS (no service
 * worker), JavaScript off, large text with English. Only journeys that can
 * be walked again and again (the ballot stops at its review step: casting
 * it is `votes.spec.ts`'s, once).
 */
for (const e of ENVS) {
  const en = e.cookies.zhsq_lang === "en";
  const t = (zh: string, english: string) => (en ? english : zh);

  test(`${e.env}: a resident names themselves, books and cancels, reviews a ballot, is told what to tick, and comments`, async ({ browser }) => {
    test.setTimeout(120_000);
    const context = await envContext(browser, e);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(`${page.url()}: ${err.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
    });
    await loginWithCode(page, "13800000001");
    await expect(page.getByRole("link", { name: "预约办事" })).toBeVisible();
    const url = test.info().project.use.baseURL!;
    await context.addCookies(Object.entries(e.cookies).map(([name, value]) => ({ name, value, url })));
    const settled = async (p: Page) => {
      if (e.js) await expect(p.locator("html")).toHaveAttribute("data-hydrated", "1");
      await expectNoHorizontalOverflow(p);
    };

    // 我的: the name neighbours and staff see
    await page.goto("/me");
    await page.getByLabel(t("称呼", "Name"), { exact: false }).fill("陈阿姨");
    await page.getByRole("button", { name: t("保存称呼", "Save name") }).click();
    await expect(page.getByRole("status")).toContainText(t("称呼已保存", "Your name is saved"));
    await expect(page.getByRole("heading", { name: "陈阿姨" })).toBeVisible();
    // an empty name is refused with what to do, and the name stays
    await page.getByLabel(t("称呼", "Name"), { exact: false }).fill("   ");
    await page.getByRole("button", { name: t("保存称呼", "Save name") }).click();
    if (e.js) {
      // the browser's own check stops it before it is sent
      await expect(page.getByLabel(t("称呼", "Name"), { exact: false })).toHaveValue("   ");
    } else {
      await expect(page.getByRole("alert")).toContainText(t("称呼请填 1 到 30 个字", "Please give a name of 1 to 30 characters"));
    }
    await page.getByLabel(t("称呼", "Name"), { exact: false }).fill("陈静");
    await page.getByRole("button", { name: t("保存称呼", "Save name") }).click();
    await expect(page.getByRole("heading", { name: "陈静" })).toBeVisible();
    await settled(page);

    // 预约: from the home page's tile, book a time, then cancel it after a confirm
    await page.goto("/");
    await page.getByRole("link", { name: t("预约办事", "Book a visit") }).click();
    await page.locator("a[href^=\"/appointments/items/\"]", { hasText: "法律咨询" }).first().click();
    await settled(page);
    // the last day's last free time: cancelling online closes 2 h before a
    // time starts while booking closes 1 h before, so today's first free
    // time may be bookable but no longer cancellable (a time-of-day flake)
    await page.locator("nav.chips a").last().click();
    await settled(page);
    await page.locator("li.slot").filter({ has: page.getByRole("button", { name: t("预约", "Book"), exact: true }) }).last()
      .getByRole("button", { name: t("预约", "Book"), exact: true }).click();
    await expect(page.getByText(t("预约成功", "Booked!"))).toBeVisible();
    await settled(page);
    await page.getByText(t("取消预约", "Cancel booking"), { exact: true }).click();
    await expect(page.getByText(t("确定要取消这次预约吗", "Cancel this booking?"))).toBeVisible();
    await page.getByRole("button", { name: t("确定取消", "Yes, cancel it") }).click();
    await expect(page.getByText(t("已取消预约。", "The booking is cancelled."))).toBeVisible();
    await settled(page);

    // 投票: an owners' ballot goes to a review step first, and back to change it
    await page.goto("/votes");
    await page.getByRole("link", { name: /加装电梯/ }).first().click();
    await page.locator("#choice-1").check();
    await page.getByRole("button", { name: t("下一步:核对选择", "Next: check my choice") }).click();
    const review = page.locator("form.review");
    await expect(review.getByRole("heading", { name: t("请核对您的选择", "Please check your choice") })).toBeInViewport();
    await expect(review).toContainText(t("选票提交后不能更改", "A ballot cannot be changed once cast"));
    await settled(page);
    await review.getByRole("link", { name: t("返回修改", "Change my choice") }).click();
    await expect(page.locator("#choice-1")).toBeChecked();

    // 缴费: paying with no bill ticked says what to do, and keeps the page
    await page.goto("/bills");
    for (const box of await page.locator("ul.bills input[type=checkbox]").all()) await box.uncheck();
    await page.getByRole("button", { name: t("缴纳所选账单", "Pay the selected bills") }).click();
    await expect(page.getByRole("alert")).toContainText(t("还没有选账单", "No bill is ticked"));
    await settled(page);

    // 议事: a comment on a topic
    await page.goto("/topics");
    await page.getByRole("link", { name: /周末便民集市/ }).click();
    const words = `${e.env} 的评论 ${Date.now() % 100000}`;
    await page.getByLabel(t("发表评论", "Comment")).fill(words);
    await page.getByRole("button", { name: t("发表", "Post"), exact: true }).click();
    await expect(page.getByRole("status")).toContainText(t("评论已发表", "Comment posted"));
    await expect(page.locator("li.comment", { hasText: words })).toHaveCount(1);
    await settled(page);

    expect(errors, "console errors").toEqual([]);
    await context.close();
  });
}
