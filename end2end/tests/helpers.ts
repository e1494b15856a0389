import { expect, Page } from "@playwright/test";
import type { Browser, BrowserContext } from "@playwright/test";

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

export const ANDROID_CHROME =
  "Mozilla/5.0 (Linux; Android 13; V2220A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36";
export const WECHAT_ANDROID =
  "Mozilla/5.0 (Linux; Android 13; V2220A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN";
export const WECHAT_IOS =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44(0x18002c2f) NetType/WIFI Language/zh_CN";

/** The five environments residents use (issue 21): each with its minimum
 * target size. WeChat has no service worker; large text goes with English. */
export const ENVS = [
  { env: "Chrome on Android", ua: ANDROID_CHROME, js: true, sw: true, min: 44, cookies: {} as Record<string, string> },
  { env: "WeChat on Android", ua: WECHAT_ANDROID, js: true, sw: false, min: 44, cookies: {} },
  { env: "WeChat on iOS", ua: WECHAT_IOS, js: true, sw: false, min: 44, cookies: {} },
  { env: "JavaScript off", ua: ANDROID_CHROME, js: false, sw: true, min: 44, cookies: {} },
  { env: "large text, English", ua: ANDROID_CHROME, js: true, sw: true, min: 60, cookies: { zhsq_large: "1", zhsq_lang: "en" } },
];

/** A phone in one of the five environments (not logged in; the
 * environment's cookies go on after logging in, as the helpers read Chinese). */
export async function envContext(browser: Browser, e: (typeof ENVS)[number]): Promise<BrowserContext> {
  return browser.newContext({
    viewport: { width: 390, height: 844 },
    locale: "zh-CN",
    userAgent: e.ua,
    javaScriptEnabled: e.js,
    serviceWorkers: e.sw ? "allow" : "block",
    isMobile: true,
    hasTouch: true,
  });
}
