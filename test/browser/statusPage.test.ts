import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { StorageIssue } from '../../src/backend/storageIssue';
import { startHealthServer } from '../../src/http/healthHttpServer';
import { repoRoot } from '../helpers/driverProcess';
import { injectCondition, mountsReport, startLiveDriver, waitFor, type LiveDriver } from '../deploy/liveDriver';

const chromiumPath = '/usr/bin/chromium';
const screenshot = path.join(repoRoot, 'test-results', 'status-page.png');

function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

function skipWithoutChromium(ctx: Mocha.Context): void {
  if (!existsSync(chromiumPath)) {
    console.log(`    SKIPPED: ${chromiumPath} is not installed (scripts/install-deploy-tools.sh installs Debian chromium)`);
    ctx.skip();
  }
}

describe('status page (GET / on the health port) in headless Chromium', function () {
  this.timeout(90_000);
  let live: LiveDriver;
  let browser: Browser;

  before(async function () {
    skipWithoutChromium(this);
    live = await startLiveDriver('pvc-status-page');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await live?.close();
  });

  it('shows a mount with an injected MountUnresponsive condition as not healthy, with its reason, and saves a screenshot', async () => {
    await waitFor('the first probes', async () => {
      const mounts = Object.values(await mountsReport(live));
      return mounts.length === 2 && mounts.every((m) => m.state === 'healthy') ? true : undefined;
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 480 } });
    await page.goto(`${live.healthUrl}/`);
    assert.match(await page.title(), /volume health/);

    const row = page.locator(`tr[data-path="${live.target}"]`);
    await waitFor('the publish row to show healthy', async () => {
      const state = await row.getAttribute('data-state', { timeout: 1_000 }).catch(() => null);
      return state === 'healthy' ? true : undefined;
    });
    assert.match((await page.locator('#summary').textContent()) ?? '', /^2 mounts, 0 not healthy/);
    assert.equal(await page.locator('#storage').textContent(), 'Driver: healthy \u00b7 share: reachable');
    await injectCondition(live, 'INACCESSIBLE', 'MountUnresponsive', 'injected by the status page test: the NFS server does not answer');
    // No reload: the page refreshes itself every few seconds; wait for the row to turn.
    await waitFor(
      'the publish row to show the injected condition',
      async () => {
        const state = await row.getAttribute('data-state', { timeout: 1_000 }).catch(() => null);
        return state === 'degraded' || state === 'unhealthy' ? state : undefined;
      },
      20_000,
    );
    const text = (await row.textContent()) ?? '';
    assert.match(text, /MountUnresponsive \(INACCESSIBLE\): injected by the status page test/);
    assert.match(text, new RegExp(live.volumeId));
    assert.match(text, /injected/);
    const badge = row.locator('span.state');
    assert.match((await badge.textContent()) ?? '', /^(degraded|unhealthy)$/);
    assert.match((await badge.getAttribute('class')) ?? '', /\b(degraded|unhealthy)\b/);
    assert.match((await page.locator('#summary').textContent()) ?? '', /^2 mounts, 2 not healthy/);
    assert.equal(await page.locator('#storage').textContent(), 'Driver: degraded \u00b7 share: reachable');
    const stagingRow = page.locator(`tr[data-path="${live.staging}"]`);
    assert.match((await stagingRow.getAttribute('data-state')) ?? '', /^(degraded|unhealthy)$/);

    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(statSync(screenshot).size > 5_000, 'a real screenshot');
    await page.close();
  });
});

describe('status page share line in headless Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: http.Server;
  const unreachable: StorageIssue = {
    status: 'STORAGE_UNREACHABLE',
    reason: 'ShareUnresponsive',
    message: 'stat of /share did not answer within 5000ms',
    code: 'ETIMEDOUT',
  };

  before(async function () {
    skipWithoutChromium(this);
    // The words in problems say something else: the page must take the share's problems from the storage field.
    server = await startHealthServer(
      0,
      '127.0.0.1',
      {
        live: () => ({ ok: true, message: 'monitor loop is ticking' }),
        ready: () => ({ ok: false, problems: ['the share is not answering'], storage: [unreachable] }),
        mounts: () => ({}),
        metrics: async () => '',
        metricsContentType: 'text/plain',
        driverName: 'status-page.csi.example.com',
      },
      pino({ level: 'silent' }),
    );
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('shows the share problems of the storage field of /healthz, marked bad', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const storage = page.locator('#storage');
    await waitFor('the share line', async () => ((await storage.textContent()) ? true : undefined), 20_000);
    assert.equal(
      await storage.textContent(),
      'Driver: degraded \u00b7 share: ShareUnresponsive: stat of /share did not answer within 5000ms',
    );
    assert.equal(await storage.getAttribute('class'), 'bad');
    await page.close();
  });
});
