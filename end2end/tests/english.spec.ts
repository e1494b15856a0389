import { test, expect } from "./fixtures";
import { expectNoHorizontalOverflow, loginWithCode } from "./helpers";

test("in English, text the system wrote is in English too: bill titles and how they were reached, points lines", async ({ page }) => {
  await loginWithCode(page, "13800000001");
  await page.goto("/me");
  await page.getByRole("button", { name: "English" }).click();
  try {
    await page.goto("/bills");
    const bill = page.locator("li.bill", { hasText: "Property fee, second half of 2026" });
    await expect(bill).toBeVisible();
    await expect(bill).toContainText("/m²/month × 6 month(s)");
    await expect(bill).not.toContainText("个月");
    await expect(page.locator("li.bill", { hasText: "Water, October 2026" })).toContainText("t × ¥5.00/t");

    // the points ledger: the service line in English
    await page.goto("/points");
    await expect(page.locator("body")).toContainText("· 3 h");
    await expect(page.locator("body")).not.toContainText("小时");

    // 首页 in English, large icons with English labels
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "To do" })).toBeVisible();
    await expect(page.locator("ul.tiles").getByRole("link", { name: "Home repair" })).toBeVisible();
    await expectNoHorizontalOverflow(page);
  } finally {
    // the language is kept on the account: back to Chinese for the other specs
    await page.goto("/me");
    await page.getByRole("button", { name: "切换到中文" }).click();
  }
});
