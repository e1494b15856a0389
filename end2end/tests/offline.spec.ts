import { test, expect } from "./fixtures";
import { loginWithCode } from "./helpers";

const WECHAT_ANDROID =
  "Mozilla/5.0 (Linux; Android 13; V2220A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN";

for (const env of [
  { name: "Chrome (service worker)", ua: undefined, sw: "allow" as const },
  { name: "WeChat (no service worker)", ua: WECHAT_ANDROID, sw: "block" as const },
]) {
  test(`${env.name}: a form sent without a network says so, keeps what was typed, and goes once the network is back`, async ({ browser }) => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: "zh-CN",
      userAgent: env.ua,
      serviceWorkers: env.sw,
    });
    const page = await context.newPage();
    await loginWithCode(page, "13800000001");
    await page.goto("/topics");
    await page.getByRole("link", { name: /周末便民集市/ }).click();
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1");
    const words = `断网时写的评论 ${env.name} ${Date.now() % 100000}`;
    await page.getByLabel("发表评论").fill(words);
    await context.setOffline(true);
    await page.getByRole("button", { name: "发表", exact: true }).click();
    // not the browser's error page: the form, what was typed, and why it did not go
    await expect(page.getByRole("alert")).toContainText("现在没有网络");
    await expect(page.getByLabel("发表评论")).toHaveValue(words);
    await context.setOffline(false);
    // back online: it goes by itself
    await expect(page.getByRole("status")).toContainText("评论已发表", { timeout: 15_000 });
    await expect(page.locator("li.comment", { hasText: words })).toHaveCount(1);
    await context.close();
  });
}
