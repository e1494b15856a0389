import { test, expect } from "./fixtures";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "@playwright/test";
import { WECHAT_ANDROID, expectNoHorizontalOverflow, loginWithCode, loginWithPassword } from "./helpers";

// The demo route 日常巡逻线 of 阳光社区第一网格 (WGS-84).
const EAST_GATE = { latitude: 39.9599, longitude: 116.4185 };
const BLOCK_3 = { latitude: 39.9606, longitude: 116.4176 };
const GARAGE = { latitude: 39.9612, longitude: 116.4164 };

/** Moves the phone in `steps` fixes from `a` to `b`, one every 4.5 s (the page keeps one fix per 4 s). */
async function walk(context: BrowserContext, page: Page, a: typeof EAST_GATE, b: typeof EAST_GATE, steps: number) {
  for (let i = 1; i <= steps; i++) {
    const f = i / steps;
    // a metre of jitter so that standing still still gives new fixes
    const j = (i % 2) * 0.00001;
    await context.setGeolocation({
      latitude: a.latitude + (b.latitude - a.latitude) * f + j,
      longitude: a.longitude + (b.longitude - a.longitude) * f,
      accuracy: 8,
    });
    await page.waitForTimeout(4_500);
  }
}

/** A grid worker's phone at the east gate, signed in (confirms answered yes). */
async function workerPhone(browser: Browser, options: BrowserContextOptions = {}) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    locale: "zh-CN",
    permissions: ["geolocation"],
    geolocation: { ...EAST_GATE, accuracy: 8 },
    ...options,
  });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  await loginWithCode(page, "13700000001");
  return { context, page };
}

/** Starts a patrol on the demo route. */
async function startPatrol(page: Page) {
  await page.goto("/patrol");
  await page.locator("li", { hasText: "日常巡逻线" }).getByRole("button", { name: "按此线路开始" }).click();
}

/** How many fixes the page says it recorded. */
async function recorded(page: Page): Promise<number> {
  const text = (await page.locator("#rec").textContent()) ?? "";
  const m = text.match(/本次已记录 (\d+) 点/);
  return m ? Number(m[1]) : 0;
}

test("a grid worker walks a route, goes offline halfway and back: every fix arrives once and the check-ins are accepted", async ({ browser }) => {
  test.setTimeout(180_000);
  const { context, page } = await workerPhone(browser);
  // the service worker is in charge, as on a phone that has been here before
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  // the community's staff watch the patrols live at their desk
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
  const staff = await desk.newPage();
  await loginWithPassword(staff, "13900000002");
  await staff.goto("/staff/patrol/patrols");
  await expect(staff.locator("#live-board[data-live=open]")).toBeVisible();
  // the live board is an island of the worker's module, on the server's projection
  await expect(staff.locator("#live-board leptos-island #live-status")).toBeVisible();
  await page.goto("/patrol");
  await expect(page.getByRole("link", { name: "巡逻", exact: true })).toBeVisible();
  const start = page.locator("li", { hasText: "日常巡逻线" }).getByRole("button", { name: "按此线路开始" });
  await start.click();
  await expect(page.getByRole("status").first()).toContainText("巡逻已开始");
  await expect(page.locator("#rec")).toContainText("正在记录轨迹");
  // the recorder is an island of the worker's WASM module, hydrated in the release build
  await expect(page.locator("leptos-island #rec[data-recorder=on]")).toBeVisible();
  expect(await page.evaluate(() => [...document.scripts].some((s) => s.textContent?.includes("zhsq-worker-")))).toBeTruthy();
  await expectNoHorizontalOverflow(page);

  // on foot to 3号楼 and check in there; the desk sees the worker move
  await walk(context, page, EAST_GATE, BLOCK_3, 5);
  await expect(staff.locator("#live-board g.dot")).toHaveCount(1, { timeout: 20_000 });
  const onPatrol = staff.locator("ul.patrols li", { hasText: "巡逻中" });
  await expect(onPatrol.locator(".live")).toContainText("最近定位", { timeout: 20_000 });
  const before = await staff.locator("#live-board g.dot").getAttribute("transform");
  await walk(context, page, BLOCK_3, BLOCK_3, 2);
  const block3 = page.locator("li", { hasText: "3号楼消防通道" }).first();
  await block3.getByRole("button", { name: "在此签到" }).click();
  await expect(block3.locator("ul.evidence li.ok")).toContainText("签到有效", { timeout: 20_000 });
  await expect(block3.locator("ul.evidence")).toContainText("在范围内");
  // the heading follows at once, and the page says where to go next, how far and which way
  await expect(page.locator("#cp-tally")).toHaveText("点位签到 1 / 4");
  await expect(page.locator("#next-cp")).toHaveText(/^下一点位 .+ · 约 \d+ 米 · 往[东南西北]{1,2}$/);
  await expect(page.locator("#route-map circle#me")).toHaveAttribute("visibility", "visible");
  await page.screenshot({ path: "test-results/patrol-worker.png", fullPage: true });
  await expect.poll(() => staff.locator("#live-board g.dot").getAttribute("transform"), { timeout: 20_000 }).not.toBe(before);
  await staff.screenshot({ path: "test-results/patrol-desk.png", fullPage: true });

  // the signal goes: the walk and the check-in at the garage wait on the phone
  await context.setOffline(true);
  await walk(context, page, BLOCK_3, GARAGE, 6);
  const rec = page.locator("#rec");
  await expect(rec).toContainText("离线");
  const waiting = Number(await rec.getAttribute("data-waiting"));
  expect(waiting).toBeGreaterThanOrEqual(6);
  await expect(rec).toContainText(`待发送 ${waiting}`);
  // in the dead zone the page is reloaded: the service worker gives it back, and
  // the recorder reopens on the outbox, honest about what waits, and records on
  const beforeReload = await recorded(page);
  await page.reload();
  await expect(page.locator("#rec[data-recorder=on]")).toContainText("离线");
  expect(Number(await rec.getAttribute("data-waiting"))).toBeGreaterThanOrEqual(waiting);
  await walk(context, page, GARAGE, GARAGE, 2);
  expect(await recorded(page)).toBeGreaterThanOrEqual(2);
  const garage = page.locator("li", { hasText: "地下车库入口" }).first();
  await garage.getByRole("button", { name: "在此签到" }).click();
  await page.waitForTimeout(12_000); // the page tries to send and cannot
  await expect(rec).toContainText("待发送");
  await expect(garage.locator("ul.evidence li")).toHaveCount(0);

  // back online: everything goes, the check-in is judged on the fixes taken offline
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await expect(garage.locator("ul.evidence li.ok")).toContainText("签到有效", { timeout: 20_000 });
  await expect(page.locator("#rec")).toContainText("已全部发送", { timeout: 20_000 });
  await expect(rec).toHaveAttribute("data-waiting", "0");
  // recorded by the page before the reload and after it
  const fixes = beforeReload + (await recorded(page));
  expect(fixes).toBeGreaterThanOrEqual(12);

  // end the patrol (it asks first); the page reloads when the end has been sent
  await page.getByRole("button", { name: "结束巡逻" }).click();
  await expect(page.getByRole("button", { name: "按此线路开始" }).first()).toBeVisible({ timeout: 20_000 });

  // the track page: every recorded fix is in the track exactly once, both check-ins accepted
  await page.locator("ul.patrols a").first().click();
  await expect(page.locator("svg path.trk").first()).toBeVisible();
  // checkpoints reached of those planned, with the check-ins tried beside it
  await expect(page.getByRole("heading", { name: /点位签到 2 \/ 4\(签到 2 次\)/ })).toBeVisible();
  // each once; the first fix after the reload, taken where the last one before
  // it was, may be left out of the track as a repeat (at most one)
  const points = Number(((await page.getByText(/^轨迹点 \d+$/).textContent()) ?? "").replace(/\D/g, ""));
  expect(points).toBeLessThanOrEqual(fixes);
  expect(points).toBeGreaterThanOrEqual(fixes - 1);
  await expectNoHorizontalOverflow(page);
  // the replay: at the start the marker is where the track starts, at the time the first fix was taken
  const slider = page.locator("leptos-island").getByRole("slider", { name: "回放进度" });
  await expect(slider).toBeVisible();
  const slide = (v: string) => slider.evaluate((el: HTMLInputElement, v) => { el.value = v; el.dispatchEvent(new Event("input")); }, v);
  await slide("0");
  const firstSegment = page.locator("svg path.trk").first();
  const origin = ((await firstSegment.getAttribute("d")) ?? "").match(/^M([\d.]+) ([\d.]+)/)!;
  const dot = page.locator("circle.replay-dot");
  expect(Number(await dot.getAttribute("cx"))).toBeCloseTo(Number(origin[1]), 0);
  expect(Number(await dot.getAttribute("cy"))).toBeCloseTo(Number(origin[2]), 0);
  const clock = page.locator(".replay-controls output");
  await expect(clock).toHaveText(/^\d\d:\d\d:\d\d$/);
  const began = await clock.textContent();
  await slide("1000");
  await expect(clock).not.toHaveText(began!);
  await page.screenshot({ path: "test-results/patrol-track.png", fullPage: true });
  const gpx = await page.request.get(page.url().replace(/\/patrols\/(\d+)$/, "/api/v1/patrols/$1.gpx"));
  expect(gpx.status()).toBe(200);
  expect(((await gpx.text()).match(/<trkpt /g) ?? []).length).toBe(points);
  await context.close();
  await desk.close();
});

test("an item the server refuses stays on the phone with the server's reason and is not sent again", async ({ browser }) => {
  test.setTimeout(120_000);
  const { context, page } = await workerPhone(browser);
  await startPatrol(page);
  await expect(page.locator("#rec")).toContainText("正在记录轨迹");
  const patrol = Number(await page.locator("#patrol").getAttribute("data-patrol"));
  // an item the server cannot take (an id with a space), as a phone with a bad build would keep it
  await page.evaluate(
    (p) =>
      new Promise((ok, fail) => {
        const r = indexedDB.open("zhsq-patrol", 1);
        r.onsuccess = () => {
          const tx = r.result.transaction("outbox", "readwrite");
          tx.objectStore("outbox").put({ type: "fix", id: "bad id", t: Date.now(), lat: 39.96, lng: 116.418, acc: 8, patrol: p });
          tx.oncomplete = () => ok(null);
          tx.onerror = () => fail(tx.error);
        };
      }),
    patrol,
  );
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await expect(page.locator("#rec")).toContainText("被拒绝 1", { timeout: 45_000 });
  // still on the phone, marked with the reason the server gave for it
  const kept: any = await page.evaluate(
    () =>
      new Promise((ok) => {
        const r = indexedDB.open("zhsq-patrol", 1);
        r.onsuccess = () => {
          const g = r.result.transaction("outbox").objectStore("outbox").get("bad id");
          g.onsuccess = () => ok(g.result);
        };
      }),
  );
  expect(kept.refused.reason).toBe("bad_id");
  // it does not hold up the patrol: the end is sent and the page moves on
  await page.getByRole("button", { name: "结束巡逻" }).click();
  await expect(page.getByRole("button", { name: "按此线路开始" }).first()).toBeVisible({ timeout: 20_000 });
  await context.close();
});

test("inside WeChat (no service worker) the recorder records and sends the track", async ({ browser }) => {
  test.setTimeout(120_000);
  const { context, page } = await workerPhone(browser, { userAgent: WECHAT_ANDROID, serviceWorkers: "block" });
  await startPatrol(page);
  const rec = page.locator("#rec[data-recorder=on]");
  await expect(rec).toContainText("正在记录轨迹");
  expect(await page.evaluate(() => !!navigator.serviceWorker?.controller)).toBeFalsy();
  await walk(context, page, EAST_GATE, BLOCK_3, 3);
  expect(await recorded(page)).toBeGreaterThanOrEqual(3);
  // sent within the page's 10 s, the outbox empty again
  await expect(rec).toHaveAttribute("data-waiting", "0", { timeout: 20_000 });
  await expect(rec).toContainText("已全部发送");
  await page.getByRole("button", { name: "结束巡逻" }).click();
  await expect(page.getByRole("button", { name: "按此线路开始" }).first()).toBeVisible({ timeout: 20_000 });
  await context.close();
});
