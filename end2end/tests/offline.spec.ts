import { test, expect } from "./fixtures";
import { WECHAT_ANDROID, loginWithCode } from "./helpers";

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

// "Lie-fi": the phone says it is online, but the post never reaches the
// server. Chrome shows the service worker's offline page; WeChat (no service
// worker) its own error page. Either way, back on the form — or on opening
// the page again after closing it — what was typed is there, with a note,
// and it goes with one more tap.
for (const env of [
  { name: "Chrome (service worker)", ua: undefined, sw: "allow" as const },
  { name: "WeChat (no service worker)", ua: WECHAT_ANDROID, sw: "block" as const },
]) {
  test(`${env.name}: a post that never arrives is put back into its form, never lost`, async ({ browser }) => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: "zh-CN",
      userAgent: env.ua,
      serviceWorkers: env.sw,
    });
    let page = await context.newPage();
    await loginWithCode(page, "13800000001");
    if (env.sw === "allow") {
      // let the service worker take control, as on a phone that has been here before
      await page.goto("/topics");
      await page.evaluate(async () => { await navigator.serviceWorker.ready; });
      await page.reload();
      await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBeTruthy();
    }
    await page.goto("/topics");
    await page.getByRole("link", { name: /周末便民集市/ }).click();
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1");
    const topic = new URL(page.url()).pathname + new URL(page.url()).search;
    const words = `信号差时写的评论 ${env.name} ${Date.now() % 100000}`;
    await page.getByLabel("发表评论").fill(words);
    // the post fails on its way, once
    await context.route((url) => url.pathname.startsWith("/api/post_comment"), (r) => r.abort("internetdisconnected"), { times: 1 });
    await page.getByRole("button", { name: "发表", exact: true }).click();
    if (env.sw === "allow") {
      // not the browser's dinosaur: our page, which says what to do
      await expect(page.getByRole("heading", { name: "网络不可用" })).toBeVisible();
      await expect(page.getByText("已经保存在手机上")).toBeVisible();
      await page.getByRole("button", { name: /返回刚才的页面/ }).click();
    } else {
      // WeChat shows its own error page; the person closes it and opens the topic again
      await expect.poll(() => page.url()).not.toBe("about:blank");
      await page.close();
      page = await context.newPage();
      await page.goto(topic);
    }
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1");
    await expect(page.getByRole("alert")).toContainText("上次没有发出去");
    await expect(page.getByLabel("发表评论")).toHaveValue(words);
    await page.getByRole("button", { name: "发表", exact: true }).click();
    await expect(page.getByRole("status")).toContainText("评论已发表", { timeout: 15_000 });
    await expect(page.locator("li.comment", { hasText: words })).toHaveCount(1);
    // answered: opening the page again puts nothing back
    await page.goto(topic);
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "1");
    await expect(page.getByText("上次没有发出去")).toHaveCount(0);
    await expect(page.getByLabel("发表评论")).toHaveValue("");
    await context.close();
  });
}
