import { expect, Page } from "@playwright/test";

/** Logs in with a one-time code, reading the code from the development page. */
export async function loginWithCode(page: Page, phone: string) {
  await page.goto("/login");
  await page.getByLabel("手机号").fill(phone);
  await page.getByRole("button", { name: "获取验证码" }).click();
  await expect(page.getByText("验证码已发送")).toBeVisible();
  const codes = await page.context().newPage();
  await codes.goto("/dev/codes");
  const row = codes.locator("tr", { has: codes.locator("td.phone", { hasText: phone }) }).first();
  const code = (await row.locator("td.code").textContent())!.trim();
  await codes.close();
  await page.getByLabel("验证码").fill(code);
  await page.getByRole("button", { name: "登录" }).click();
}

export async function loginWithPassword(page: Page, phone: string, password = "demo1234") {
  await page.goto("/login/password");
  await page.getByLabel("手机号").fill(phone);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
}

export async function expectNoHorizontalOverflow(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}
