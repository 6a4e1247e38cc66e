// Browser end-to-end test of the qunban web dashboard.
//
// Plain Node ESM, no test runner. Expects a qunban server on an EMPTY
// database at QUNBAN_BASE_URL; writes screenshots to QUNBAN_SCREENSHOTS.
// Exits 1 with a message naming the failed step.
//
//   QUNBAN_BASE_URL=http://127.0.0.1:8080 QUNBAN_SCREENSHOTS=../target/e2e-screenshots node dashboard.mjs

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = (process.env.QUNBAN_BASE_URL || '').replace(/\/+$/, '');
const SHOTS = path.resolve(process.env.QUNBAN_SCREENSHOTS || 'screenshots');
const CHROMIUM = process.env.QUNBAN_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.QUNBAN_E2E_TIMEOUT_MS || 15000);
// Optional: the qunban binary and the server's database, to add a connector
// (connectors are created from the CLI only).
const CLI = process.env.QUNBAN_E2E_CLI;
const CLI_DB = process.env.QUNBAN_E2E_DATABASE_URL;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const MAIN_COLUMNS = ['todo', 'in_progress', 'blocked', 'review', 'done'];

if (!BASE) {
  console.error('QUNBAN_BASE_URL is not set');
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

// ------------------------------------------------------------- helpers --

class StepFailure extends Error {}

function assert(cond, message) {
  if (!cond) throw new StepFailure(message);
}

let stepNo = 0;
async function step(name, fn) {
  stepNo += 1;
  const started = Date.now();
  console.log(`▶ ${stepNo}. ${name}`);
  try {
    const out = await fn();
    console.log(`  ✓ ${name} (${Date.now() - started} ms)`);
    return out;
  } catch (e) {
    e.message = `step ${stepNo} "${name}" failed: ${e.message}`;
    throw e;
  }
}

const tid = (id) => `[data-testid="${id}"]`;

async function visible(locator, what, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (_) {
    throw new StepFailure(`expected ${what} to be visible within ${timeout} ms`);
  }
  return locator.first();
}

/** Navigates to a hash route and waits until the page rendered. */
async function open(page, hash, ready, { allowForbidden = false } = {}) {
  await page.goto(`${BASE}/${hash}`);
  return waitReady(page, ready, { allowForbidden });
}

/** Waits for the page; 'forbidden' when allowed and the server said 403. */
async function waitReady(page, ready, { allowForbidden = false } = {}) {
  try {
    await page.waitForFunction((r) => {
      const m = document.getElementById('main');
      return m && (m.dataset.ready === r || m.dataset.ready === 'error');
    }, ready, { timeout: TIMEOUT });
  } catch (_) {
    throw new StepFailure(`page "${ready}" did not render within ${TIMEOUT} ms (now at ${page.url()})`);
  }
  const state = await page.locator('#main').getAttribute('data-ready');
  if (state === 'error' && allowForbidden && (await page.locator(tid('page-error')).getAttribute('data-status')) === '403') {
    return 'forbidden';
  }
  if (state === 'error') {
    const msg = await page.locator(tid('page-error')).innerText().catch(() => '?');
    throw new StepFailure(`page "${ready}" shows an error: ${msg.replace(/\s+/g, ' ')}`);
  }
}

async function signIn(page, account) {
  await page.goto(`${BASE}/#/login`);
  await visible(page.locator(tid('login-form')), 'the sign-in form');
  await page.fill(tid('login-input'), account.login);
  await page.fill(tid('password-input'), account.password);
  await page.click(tid('login-submit'));
  await waitReady(page, 'projects');
  const who = await page.locator(tid('whoami')).innerText();
  assert(who.trim() === account.name, `signed in as "${who}", expected "${account.name}"`);
}

async function signOut(page) {
  const logout = page.locator(tid('logout'));
  if (!(await logout.isVisible())) await page.click(tid('menu-toggle'));
  await logout.click();
  await visible(page.locator(tid('login-form')), 'the sign-in form after signing out');
}

async function lastToast(page, kind) {
  const toastEl = await visible(page.locator(`${tid('toast')}[data-kind="${kind}"]`).last(), `a ${kind} toast`);
  return (await toastEl.locator('.toast-text').innerText()).trim();
}

async function dismissToasts(page) {
  await page.evaluate(() => document.querySelectorAll('[data-testid="toast"]').forEach((t) => t.remove()));
}

/** The column a task card is in, read from the DOM. */
async function columnOf(page, taskId) {
  return page.evaluate((id) => {
    const card = document.querySelector(`[data-testid="task-card"][data-task-id="${id}"]`);
    return card ? card.closest('section[data-status]')?.dataset.status ?? null : null;
  }, String(taskId));
}

async function cards(page) {
  return page.$$eval('[data-testid="task-card"]', (els) => els.map((el) => ({
    id: el.dataset.taskId,
    ref: el.dataset.ref,
    owners: el.dataset.owners ? el.dataset.owners.split(',') : [],
    column: el.closest('section[data-status]')?.dataset.status,
    title: el.querySelector('[data-testid="task-link"]')?.textContent || '',
  })));
}

async function dragCard(page, taskId, toColumn) {
  const card = page.locator(`${tid('task-card')}[data-task-id="${taskId}"]`);
  await card.scrollIntoViewIfNeeded();
  await card.dragTo(page.locator(tid(`column-${toColumn}`)).locator('.col-head'));
}

async function apiJson(page, urlPath) {
  const res = await page.request.get(`${BASE}/api/v1${urlPath}`);
  assert(res.ok(), `GET ${urlPath} answered ${res.status()}: ${await res.text()}`);
  return res.json();
}

function arr(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const k of keys) if (data && Array.isArray(data[k])) return data[k];
  return [];
}

async function noHorizontalOverflow(page, what) {
  const { scrollWidth, offender } = await page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    let worst = null;
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0) {
        // Elements inside their own scroll container (the kanban) are fine.
        let p = el.parentElement;
        let contained = false;
        while (p && p !== document.body) {
          const ox = getComputedStyle(p).overflowX;
          if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { contained = true; break; }
          p = p.parentElement;
        }
        if (!contained) { worst = `${el.tagName.toLowerCase()}.${el.className} (right edge ${Math.round(r.right)})`; break; }
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, offender: worst };
  });
  assert(scrollWidth <= PHONE.width, `${what}: page is ${scrollWidth}px wide at ${PHONE.width}px (first overflowing element: ${offender})`);
}

// ---------------------------------------------------------------- main --

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

const pageErrors = [];
function watch(page, label) {
  page.on('pageerror', (e) => pageErrors.push(`${label}: ${e.message}`));
  // Refused 4xx answers are expected (the executor's drag); policy violations are not.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) pageErrors.push(`${label}: ${m.text()}`);
  });
  page.setDefaultTimeout(TIMEOUT);
}

let exitCode = 0;
try {
  const ctx = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  watch(page, 'desktop');

  // 1. Empty database: the setup screen offers the demo.
  const demo = await step('open / on an empty database and load the demo project', async () => {
    await page.goto(`${BASE}/`);
    const button = await visible(page.locator(tid('demo-button')), 'the "load a demo project" button');
    await visible(page.locator(tid('setup-form')), 'the "create the first admin account" form');
    await page.screenshot({ path: path.join(SHOTS, 'setup-desktop.png'), fullPage: true });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/demo') && r.request().method() === 'POST', { timeout: 60000 }),
      button.click(),
    ]);
    assert(res.ok(), `POST /api/v1/demo answered ${res.status()}: ${await res.text()}`);
    const body = await res.json();
    const accounts = arr(body, 'accounts');
    assert(accounts.length > 0, `the demo returned no accounts: ${JSON.stringify(body)}`);
    const projectName = typeof body.project === 'string' ? body.project : body.project?.name;
    assert(projectName, `the demo response names no project: ${JSON.stringify(body.project)}`);
    await waitReady(page, 'projects');
    const card = await visible(page.locator(tid('project-card')).filter({ hasText: projectName }), `the project card "${projectName}"`);
    const health = await card.getAttribute('data-health');
    assert(['good', 'at_risk', 'off_track'].includes(health), `project health is "${health}"`);
    await visible(page.locator(tid('demo-accounts')), 'the demo accounts panel');
    const pm = accounts.find((a) => a.role === 'pm') || accounts[0];
    const executors = accounts.filter((a) => a.role === 'executor');
    assert(executors.length > 0, `the demo has no executor account: ${JSON.stringify(accounts.map((a) => a.role))}`);
    console.log(`  demo project "${projectName}", accounts: ${accounts.map((a) => `${a.name}(${a.role})`).join(', ')}`);
    return { projectName, accounts, pm, executors };
  });

  await step('sign out, then sign in as the demo PM', async () => {
    await signOut(page);
    await page.screenshot({ path: path.join(SHOTS, 'login-desktop.png'), fullPage: true });
    await signIn(page, demo.pm);
  });

  const projectId = await step('open the kanban board of the demo project', async () => {
    const card = page.locator(tid('project-card')).filter({ hasText: demo.projectName }).first();
    const id = await card.getAttribute('data-project-id');
    await card.locator(tid('project-link')).click();
    await waitReady(page, 'board');
    for (const c of MAIN_COLUMNS) await visible(page.locator(tid(`column-${c}`)), `the ${c} column`);
    const all = await cards(page);
    assert(all.length > 0, 'the demo board has no task cards');
    console.log(`  ${all.length} cards: ${MAIN_COLUMNS.map((c) => `${c}=${all.filter((x) => x.column === c).length}`).join(' ')}`);
    return id;
  });

  const moved = await step('drag a card to another column as the PM', async () => {
    const all = await cards(page);
    const card = all.find((c) => c.column === 'todo') || all.find((c) => ['in_progress', 'blocked', 'review'].includes(c.column));
    assert(card, 'no open card to drag');
    const target = card.column === 'in_progress' ? 'review' : 'in_progress';
    await dismissToasts(page);
    await dragCard(page, card.id, target);
    const reply = await lastToast(page, 'ok');
    await visible(page.locator(`${tid(`column-${target}`)} ${tid('task-card')}[data-task-id="${card.id}"]`), `card ${card.ref} in the ${target} column`);
    console.log(`  ${card.ref} ${card.column} → ${target}; bot: ${reply.replace(/\s+/g, ' ')}`);
    await page.reload();
    await waitReady(page, 'board');
    const after = await columnOf(page, card.id);
    assert(after === target, `after a reload ${card.ref} is in "${after}", expected "${target}"`);
    return { ...card, target, reply };
  });

  await step('the announcement of the move is in the outbox', async () => {
    const found = [];
    for (const status of ['pending', 'sent', 'dead']) {
      const items = arr(await apiJson(page, `/outbox?status=${status}`), 'items', 'outbox', 'messages');
      for (const it of items) {
        const text = it.text ?? it.payload?.text ?? JSON.stringify(it.payload ?? it);
        found.push({ status, text: String(text) });
      }
    }
    const norm = (x) => x.replace(/\s+/g, ' ').trim();
    const hit = found.find((f) => f.text.includes(moved.ref) || (moved.reply && norm(f.text) === norm(moved.reply)));
    assert(hit, `no outbox message mentions ${moved.ref} or reads "${moved.reply}" (${found.length} messages: ${JSON.stringify(found.slice(-5))})`);
    console.log(`  found in "${hit.status}"`);
    // The delivery worker may move it on meanwhile: look in every tab.
    const needle = hit.text.includes(moved.ref) ? moved.ref : hit.text.trim().split('\n')[0];
    let shownIn = null;
    for (const status of [hit.status, 'pending', 'sent', 'dead']) {
      await open(page, `#/outbox?status=${status}`, 'outbox');
      if (await page.locator(tid('outbox-item')).filter({ hasText: needle }).count()) { shownIn = status; break; }
    }
    assert(shownIn, `the outbox page shows no item with "${needle}" in any tab`);
    const shownCount = await page.locator(tid(`outbox-count-${shownIn}`)).getAttribute('data-count');
    const rows = await page.locator(tid('outbox-item')).count();
    assert(Number(shownCount) === rows || (rows === 100 && Number(shownCount) >= 100), `the "${shownIn}" tab counts ${shownCount} but lists ${rows}`);
    for (const s of ['pending', 'sent', 'dead']) await visible(page.locator(tid(`outbox-count-${s}`)), `the count on the ${s} tab`);
    console.log(`  shown in the "${shownIn}" tab`);
    // Requeue a dead letter when there is one.
    await open(page, '#/outbox?status=dead', 'outbox');
    const dead = page.locator(tid('outbox-item'));
    if (await dead.count()) {
      const id = await dead.first().getAttribute('data-outbox-id');
      await dismissToasts(page);
      await dead.first().locator(tid('requeue')).click();
      await lastToast(page, 'ok');
      const still = arr(await apiJson(page, '/outbox?status=dead'), 'items').some((i) => String(i.id) === id);
      assert(!still, `dead letter ${id} is still dead after requeueing`);
      console.log(`  requeued dead letter #${id}`);
    } else {
      console.log('  no dead letters to requeue');
    }
  });

  if (CLI && CLI_DB) {
    await step('connectors: the callback URL of a connector added with the CLI, and its copy button', async () => {
      const out = execFileSync(CLI, ['connector', 'add', 'dingtalk', '--name', 'e2e-ding', '--app-secret', 'e2e-secret-0123456789'], {
        env: { ...process.env, QUNBAN_DATABASE_URL: CLI_DB }, encoding: 'utf8',
      });
      const callbackPath = out.trim().split('\n').pop().trim().split(/\s+/).pop();
      assert(callbackPath.startsWith('/'), `connector add printed no callback path: ${out}`);
      await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
      const state = await open(page, '#/connectors', 'connectors', { allowForbidden: true });
      assert(state !== 'forbidden', `the PM ${demo.pm.name} may not see connectors`);
      const item = await visible(page.locator(tid('connector-item')).filter({ hasText: 'e2e-ding' }), 'the e2e-ding connector');
      const url = await item.locator(tid('callback-url')).inputValue();
      assert(url === BASE + callbackPath, `callback URL "${url}", expected "${BASE + callbackPath}"`);
      await dismissToasts(page);
      await item.locator(tid('copy-button')).click();
      await lastToast(page, 'ok');
      const clip = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
      assert(clip === null || clip === url, `the clipboard holds "${clip}"`);
      console.log(`  ${url}${clip === url ? ' (copied)' : ''}`);
    });
  }

  const executor = demo.executors[0];
  await step(`as executor ${executor.name}, dragging someone else's card is refused`, async () => {
    await signOut(page);
    await signIn(page, executor);
    await open(page, `#/p/${projectId}/board`, 'board');
    const all = await cards(page);
    const card = all.find((c) => !c.owners.includes(executor.name) && ['todo', 'in_progress', 'blocked', 'review'].includes(c.column))
      || all.find((c) => !c.owners.includes(executor.name));
    assert(card, `every card belongs to ${executor.name}`);
    const target = card.column === 'review' ? 'in_progress' : 'review';
    await dismissToasts(page);
    await dragCard(page, card.id, target);
    const message = await lastToast(page, 'error');
    assert(message.length > 0, 'the error toast is empty');
    const now = await columnOf(page, card.id);
    assert(now === card.column, `${card.ref} moved to "${now}" although the server refused`);
    await page.reload();
    await waitReady(page, 'board');
    assert((await columnOf(page, card.id)) === card.column, `${card.ref} changed column on the server`);
    console.log(`  ${card.ref} (owners ${card.owners.join('/')}) stayed in ${card.column}; error: ${message}`);
  });

  const viewer = demo.accounts.find((a) => a.role === 'viewer');
  if (viewer) {
    await step(`as viewer ${viewer.name}, the board is read only`, async () => {
      await signOut(page);
      await signIn(page, viewer);
      await open(page, `#/p/${projectId}/board`, 'board');
      await visible(page.locator(tid('read-only')), 'the read-only note');
      const draggable = await page.locator(`${tid('task-card')}[draggable="true"]`).count();
      assert(draggable === 0, `${draggable} cards are draggable for a viewer`);
      await signOut(page);
      await signIn(page, executor);
      await open(page, `#/p/${projectId}/board`, 'board');
    });
  }

  await step('a task detail shows the chat message behind a history entry', async () => {
    const all = await cards(page);
    let chosen = null;
    for (const c of all) {
      const detail = await apiJson(page, `/tasks/${c.id}`);
      const withMsg = arr(detail, 'history').find((e) => e.message && (e.message.text || typeof e.message === 'string'));
      if (withMsg) { chosen = { card: c, text: withMsg.message.text ?? withMsg.message }; break; }
    }
    assert(chosen, 'no demo task has a history entry linked to a chat message');
    await open(page, `#/task/${chosen.card.id}`, 'task');
    await visible(page.locator(tid('history-table')), 'the history table');
    assert(await page.locator(tid('history-row')).count() > 0, 'the history table has no rows');
    const texts = await page.locator(`${tid('history')} ${tid('history-message-text')}`).allInnerTexts();
    assert(texts.some((x) => x.trim() === String(chosen.text).trim()), `history does not show the message "${chosen.text}" (shown: ${JSON.stringify(texts)})`);
    console.log(`  ${chosen.card.ref}: "${chosen.text}"`);
  });

  const created = await step('playground: a free-text message creates a task', async () => {
    await signOut(page);
    await signIn(page, demo.pm);
    await open(page, '#/playground', 'playground');
    const groupSel = page.locator(tid('pg-group'));
    const options = await groupSel.locator('option').allInnerTexts();
    assert(options.length > 0, 'the playground lists no groups');
    const groups = arr(await apiJson(page, '/groups'), 'groups');
    const group = groups.find((g) => g.project_id != null && String(g.project_id) === String(projectId) && g.kind === 'master')
      || groups.find((g) => String(g.project_id) === String(projectId));
    assert(group, `no group belongs to project ${projectId}`);
    await groupSel.selectOption(String(group.id));
    await waitTranscript(page);
    const memberSel = page.locator(tid('pg-member'));
    if (await memberSel.isEnabled()) await memberSel.selectOption({ label: demo.pm.name });
    const selected = await memberSel.evaluate((s) => s.options[s.selectedIndex]?.textContent);
    assert(selected === demo.pm.name, `the playground speaks as "${selected}", expected ${demo.pm.name}`);
    const assignee = executor.name;
    const text = `@${assignee} 明天下午3点前把验收清单整理好`;
    const botBefore = await page.locator(tid('bubble-bot')).count();
    await page.fill(tid('pg-input'), text);
    await page.click(tid('pg-send'));
    await visible(page.locator(tid('bubble-user')).filter({ hasText: '验收清单' }), 'my message as a chat bubble');
    try {
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="bubble-bot"]').length > n, botBefore, { timeout: TIMEOUT });
    } catch (_) {
      throw new StepFailure('the bot did not reply in the playground');
    }
    await transcriptAtBottom(page, 'after sending');
    const overflow = await page.locator(tid('pg-transcript')).evaluate((tr) => tr.scrollHeight > tr.clientHeight);
    console.log(`  transcript at the bottom after sending${overflow ? ' (it scrolls)' : ' (it does not overflow yet)'}`);
    const reply = (await page.locator(tid('bubble-bot')).last().innerText()).replace(/\s+/g, ' ');
    const task = await visible(page.locator(`${tid('pg-board')} ${tid('pg-task')}`).filter({ hasText: '验收清单' }), 'the new task in the playground board');
    const ref = await task.getAttribute('data-ref');
    const id = await task.getAttribute('data-task-id');
    console.log(`  bot: ${reply}; new task ${ref}`);
    await page.screenshot({ path: path.join(SHOTS, 'playground-desktop.png'), fullPage: true });
    await open(page, `#/p/${projectId}/board`, 'board');
    await visible(page.locator(`${tid('task-card')}[data-task-id="${id}"]`).filter({ hasText: '验收清单' }), 'the new task on the kanban board');
    const owners = await page.locator(`${tid('task-card')}[data-task-id="${id}"]`).getAttribute('data-owners');
    assert(owners.split(',').includes(assignee), `the new task is owned by "${owners}", expected ${assignee}`);
    await open(page, `#/task/${id}`, 'task');
    const shown = await page.locator(`${tid('origin-message-text')}, ${tid('history-message-text')}`).allInnerTexts();
    assert(shown.some((x) => x.includes('验收清单整理好')), `the new task's page does not show the chat message (shown: ${JSON.stringify(shown)})`);
    // The edit form changes the task through PATCH, and the history records it.
    const rowsBefore = await page.locator(tid('history-row')).count();
    await dismissToasts(page);
    await page.fill(tid('task-progress-input'), '40');
    await page.click(tid('task-save'));
    const saved = await lastToast(page, 'ok');
    await waitReady(page, 'task');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="history-row"]').length > n, rowsBefore, { timeout: TIMEOUT })
      .catch(() => { throw new StepFailure('saving progress 40% added no history row'); });
    const detail = await apiJson(page, `/tasks/${id}`);
    const progress = (detail.task ?? detail).progress;
    assert(Number(progress) === 40, `progress is ${progress} after saving 40`);
    console.log(`  edit form: progress 40% saved; bot: ${saved.replace(/\s+/g, ' ')}`);

    // Renaming and reassigning from the same form.
    await dismissToasts(page);
    const newTitle = `${(detail.task ?? detail).title}（网页改）`;
    await page.fill(tid('task-title-input'), newTitle);
    await page.fill(tid('task-owners-input'), '李娜');
    await page.click(tid('task-save'));
    await lastToast(page, 'ok');
    await waitReady(page, 'task');
    const after = await apiJson(page, `/tasks/${id}`);
    const renamed = after.task ?? after;
    assert(renamed.title === newTitle, `title is ${renamed.title} after renaming`);
    assert(JSON.stringify(renamed.owner_names) === JSON.stringify(['李娜']), `owners are ${JSON.stringify(renamed.owner_names)} after reassigning to 李娜`);
    console.log('  edit form: renamed and reassigned to 李娜');
    return { id, ref };
  });

  await step('search finds tasks and messages', async () => {
    await open(page, '#/search', 'search');
    await page.fill(tid('search-input'), '验收清单');
    await page.click(tid('search-submit'));
    await waitReady(page, 'search');
    await visible(page.locator(tid('search-results')), 'search results');
    const tasks = await page.locator(tid('search-task')).allInnerTexts();
    const messages = await page.locator(tid('search-message')).count();
    assert(tasks.some((x) => x.includes('验收清单')), `search did not list the task (tasks: ${JSON.stringify(tasks)})`);
    assert(messages > 0, 'search did not list the chat message');
    console.log(`  ${tasks.length} task(s), ${messages} message(s)`);
  });

  await step('account page: create an API token, use it as a bearer token, revoke it', async () => {
    await open(page, '#/projects', 'projects');
    await page.click(tid('whoami'));
    await waitReady(page, 'account');
    const shownName = (await page.locator(tid('account-name')).innerText()).trim();
    assert(shownName === demo.pm.name, `the account page shows the name "${shownName}", expected ${demo.pm.name}`);
    const shownLogin = (await page.locator(tid('account-login')).innerText()).trim();
    assert(shownLogin === demo.pm.login, `the account page shows the login "${shownLogin}", expected ${demo.pm.login}`);
    const roles = await page.locator(tid('account-role')).evaluateAll((els) => els.map((e) => ({ project: e.dataset.projectId, role: e.dataset.role })));
    assert(roles.some((r) => r.project === String(projectId) && r.role === 'pm'), `the account page lists no PM role in project ${projectId}: ${JSON.stringify(roles)}`);
    // A network failure reads as "cannot reach the server", in Chinese.
    await page.route('**/api/v1/tokens', (route) => (route.request().method() === 'POST' ? route.abort('connectionrefused') : route.continue()));
    await dismissToasts(page);
    await page.fill(tid('token-name'), 'e2e-script');
    await page.click(tid('token-create'));
    const netErr = await lastToast(page, 'error');
    assert(netErr === '无法连接服务器', `a network failure toasts "${netErr}"`);
    await page.unroute('**/api/v1/tokens');
    await dismissToasts(page);
    await page.click(tid('token-create'));
    await lastToast(page, 'ok');
    await visible(page.locator(tid('token-secret-warning')), 'the warning that the secret is shown once');
    const secret = await (await visible(page.locator(tid('token-secret')), 'the new secret')).inputValue();
    assert(secret.length >= 16, `the secret "${secret}" looks too short`);
    await visible(page.locator(tid('token-copy')), 'the copy button of the secret');
    const item = await visible(page.locator(tid('token-item')).filter({ hasText: 'e2e-script' }), 'the new token in the list');
    const tokenId = await item.getAttribute('data-token-id');
    const listed = arr(await apiJson(page, '/tokens'), 'tokens');
    assert(listed.some((tk) => String(tk.id) === tokenId && tk.name === 'e2e-script'), `GET /tokens does not list token ${tokenId}: ${JSON.stringify(listed)}`);
    assert(!JSON.stringify(listed).includes(secret), 'GET /tokens reveals the secret');
    await page.screenshot({ path: path.join(SHOTS, 'account-token-desktop.png'), fullPage: true });
    const bearer = { Authorization: `Bearer ${secret}` };
    const res = await page.request.get(`${BASE}/api/v1/me`, { headers: bearer });
    assert(res.ok(), `GET /me with the new token answered ${res.status()}: ${await res.text()}`);
    const me = await res.json();
    assert(me.name === demo.pm.name, `the token belongs to "${me.name}", expected ${demo.pm.name}`);
    // The secret is shown once: after a reload it is gone.
    await page.reload();
    await waitReady(page, 'account');
    assert(await page.locator(tid('token-secret')).count() === 0, 'the secret is still shown after a reload');
    const row = page.locator(`${tid('token-item')}[data-token-id="${tokenId}"]`);
    await dismissToasts(page);
    await row.locator(tid('token-revoke')).click();
    await page.waitForFunction((id) => document.querySelector(`[data-testid="token-item"][data-token-id="${id}"] [data-armed]`), tokenId);
    await row.locator(tid('token-revoke')).click();
    await lastToast(page, 'ok');
    await page.waitForFunction((id) => !document.querySelector(`[data-testid="token-item"][data-token-id="${id}"]`), tokenId)
      .catch(() => { throw new StepFailure(`token ${tokenId} is still listed after revoking`); });
    const after = await page.request.get(`${BASE}/api/v1/me`, { headers: bearer });
    assert(after.status() === 401, `GET /me with the revoked token answered ${after.status()}`);
    console.log(`  token #${tokenId}: /me → ${me.name}; after revoking → 401`);
  });

  const reminderGroup = await step('groups: the PM changes the morning reminder to 09:45', async () => {
    await open(page, '#/groups', 'groups');
    const card = await visible(page.locator(`${tid('group-item')}[data-editable="true"]`).filter({ has: page.locator(`${tid('rule-item')}[data-rule="morning"]`) }),
      'a group whose reminders the PM may edit');
    const groupId = await card.getAttribute('data-group-id');
    const rule = card.locator(`${tid('rule-item')}[data-rule="morning"]`);
    await dismissToasts(page);
    await rule.locator(tid('rule-at')).fill('09:45');
    await rule.locator(tid('rule-save')).click();
    const msg = await lastToast(page, 'ok');
    const data = await apiJson(page, `/groups/${groupId}/reminders`);
    const morning = arr(data, 'rules').find((r) => r.kind === 'morning');
    assert(morning && String(morning.at).startsWith('09:45'), `the morning rule is ${JSON.stringify(morning)} after saving 09:45`);
    // The card shows the next occurrences.
    await page.waitForFunction((id) => {
      const box = document.querySelector(`[data-testid="group-item"][data-group-id="${id}"] [data-testid="next-reminders"]`);
      return box && !box.dataset.loading;
    }, groupId);
    const next = await card.locator(tid('next-item')).count();
    assert(next > 0 || await card.locator(tid('next-none')).count() > 0, 'the group card shows neither next reminders nor "none"');
    console.log(`  group #${groupId}: morning at ${morning.at} (${msg}); ${next} next reminder(s) shown`);
    return groupId;
  });

  await step(`as executor ${executor.name}: a wrong password is named, and reminder rules are read only`, async () => {
    await signOut(page);
    await page.fill(tid('login-input'), executor.login);
    await page.fill(tid('password-input'), `${executor.password}-wrong`);
    await dismissToasts(page);
    await page.click(tid('login-submit'));
    const wrong = await lastToast(page, 'error');
    assert(wrong === '登录名或密码错误', `a wrong password toasts "${wrong}"`);
    await signIn(page, executor);
    await open(page, '#/groups', 'groups');
    const card = page.locator(`${tid('group-item')}[data-group-id="${reminderGroup}"]`);
    await visible(card, `group #${reminderGroup}`);
    assert((await card.getAttribute('data-editable')) === 'false', 'the executor may edit the reminder rules');
    await visible(card.locator(tid('rules-read-only')), 'the read-only note on the rules');
    const inputs = await page.locator(`${tid('rule-at')}, ${tid('rule-hours')}, ${tid('rule-enabled')}, ${tid('rule-save')}`).count();
    assert(inputs === 0, `the executor sees ${inputs} rule controls`);
    const when = (await card.locator(`${tid('rule-item')}[data-rule="morning"] ${tid('rule-when')}`).innerText()).trim();
    assert(when === '09:45', `the executor sees the morning rule at "${when}"`);
    // The server refuses, too.
    const res = await page.request.put(`${BASE}/api/v1/groups/${reminderGroup}/reminders/morning`, { data: { at: '10:00' } });
    assert(res.status() === 403, `PUT reminders as the executor answered ${res.status()}`);
    await signOut(page);
    await signIn(page, demo.pm);
  });

  await step('switch to English and back', async () => {
    await open(page, '#/projects', 'projects');
    const before = (await page.locator(tid('nav-projects')).innerText()).trim();
    assert(before === '项目', `the default language shows "${before}"`);
    assert((await page.getAttribute('html', 'lang')) === 'zh-CN', 'html lang is not zh-CN');
    await page.click(tid('lang-toggle'));
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    const after = (await page.locator(tid('nav-projects')).innerText()).trim();
    assert(after === 'Projects', `after switching, the projects link reads "${after}"`);
    await page.reload();
    await waitReady(page, 'projects');
    assert((await page.locator(tid('nav-projects')).innerText()).trim() === 'Projects', 'English was not remembered after a reload');
    await page.click(tid('lang-toggle'));
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  });

  const pages = [
    ['projects', '#/projects', 'projects'],
    ['board', `#/p/${projectId}/board`, 'board'],
    ['task', `#/task/${moved.id}`, 'task'],
    ['gantt', `#/p/${projectId}/gantt`, 'gantt'],
    ['metrics', `#/p/${projectId}/metrics`, 'metrics'],
    ['workload', `#/p/${projectId}/workload`, 'workload'],
    ['groups', '#/groups', 'groups'],
    ['connectors', '#/connectors', 'connectors', { allowForbidden: true }],
    ['outbox', '#/outbox?status=pending', 'outbox'],
    ['search', `#/search?q=${encodeURIComponent('验收清单')}`, 'search'],
    ['playground', '#/playground', 'playground'],
    ['account', '#/account', 'account'],
  ];

  await step('every page renders on the desktop (1280x800); screenshots', async () => {
    for (const [name, hash, ready, opts] of pages) {
      const state = await open(page, hash, ready, opts);
      if (state === 'forbidden') console.log(`  ${name}: forbidden for ${demo.pm.name} (403), as the server decides`);
      else await checkPage(page, name);
      if (name === 'playground') await transcriptAtBottom(page, 'on load (desktop)');
      await dismissToasts(page);
      await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
      console.log(`  ${name}-desktop.png`);
    }
  });

  await step('groups: test send answers with a toast', async () => {
    await open(page, '#/groups', 'groups');
    await dismissToasts(page);
    await page.locator(tid('test-send')).first().click();
    const t = await visible(page.locator(tid('toast')), 'a toast after test send');
    console.log(`  ${await t.getAttribute('data-kind')}: ${(await t.locator('.toast-text').innerText()).replace(/\s+/g, ' ')}`);
  });

  await step('phone (390x844): no horizontal overflow; screenshots', async () => {
    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const p = await phone.newPage();
    watch(p, 'phone');
    await p.goto(`${BASE}/#/login`);
    await waitReady(p, 'login');
    await visible(p.locator(tid('login-form')), 'the sign-in form on the phone');
    await noHorizontalOverflow(p, 'login');
    await p.screenshot({ path: path.join(SHOTS, 'login-phone.png'), fullPage: true });
    console.log('  login-phone.png');
    await signIn(p, demo.pm);
    for (const [name, hash, ready, opts] of pages) {
      const state = await open(p, hash, ready, opts);
      if (state !== 'forbidden') await checkPage(p, name);
      if (name === 'playground') await transcriptAtBottom(p, 'on load (phone)');
      await dismissToasts(p);
      await noHorizontalOverflow(p, name);
      await p.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
      console.log(`  ${name}-phone.png`);
    }
    // English labels are longer: the widest pages must still fit.
    await p.click(tid('lang-toggle'));
    await p.waitForFunction(() => document.documentElement.lang === 'en');
    for (const [name, hash, ready] of pages.filter(([n]) => ['board', 'task', 'metrics', 'workload', 'playground', 'outbox', 'groups', 'account'].includes(n))) {
      await open(p, hash, ready);
      assert((await p.getAttribute('html', 'lang')) === 'en', `${name} is not in English`);
      await noHorizontalOverflow(p, `${name} (English)`);
      await p.screenshot({ path: path.join(SHOTS, `${name}-phone-en.png`), fullPage: true });
    }
    await p.click(tid('lang-toggle'));
    await p.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    // The collapsed navigation opens from the menu button.
    await open(p, '#/projects', 'projects');
    assert(!(await p.locator(tid('nav-groups')).isVisible()), 'the navigation is not collapsed on a phone');
    await p.click(tid('menu-toggle'));
    await visible(p.locator(tid('nav-groups')), 'the groups link in the opened phone menu');
    await noHorizontalOverflow(p, 'projects with the menu open');
    await p.screenshot({ path: path.join(SHOTS, 'menu-phone.png') });
    // On a phone the status changes through a <select> on the card.
    await open(p, `#/p/${projectId}/board`, 'board');
    const sel = p.locator(`${tid('task-card')}[data-task-id="${created.id}"] ${tid('card-status')}`);
    await visible(sel, 'the status select on a card');
    await dismissToasts(p);
    const target = (await sel.inputValue()) === 'review' ? 'in_progress' : 'review';
    await sel.selectOption(target);
    await lastToast(p, 'ok');
    await visible(p.locator(`${tid(`column-${target}`)} ${tid('task-card')}[data-task-id="${created.id}"]`), `${created.ref} in the ${target} column after the select`);
    await phone.close();
  });

  await step('desktop screenshot of the login page in a fresh browser', async () => {
    const fresh = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN' });
    const p = await fresh.newPage();
    watch(p, 'fresh');
    await p.goto(`${BASE}/`);
    await visible(p.locator(tid('login-form')), 'the sign-in form for a visitor without a session');
    await p.screenshot({ path: path.join(SHOTS, 'login-desktop.png'), fullPage: true });
    await fresh.close();
  });

  assert(pageErrors.length === 0, `errors in the page: ${pageErrors.join(' | ')}`);
  console.log(`✔ dashboard e2e passed; screenshots in ${SHOTS}`);
} catch (e) {
  exitCode = 1;
  console.error(`✘ ${e.message}`);
  if (!(e instanceof StepFailure) && e.stack) console.error(e.stack);
  if (pageErrors.length) console.error(`uncaught errors in the page: ${pageErrors.join(' | ')}`);
} finally {
  await browser.close().catch(() => {});
}
process.exit(exitCode);

// Page-specific checks shared by the desktop and phone passes.
async function checkPage(page, name) {
  switch (name) {
    case 'projects':
      await visible(page.locator(tid('project-card')), 'a project card');
      break;
    case 'board':
      await visible(page.locator(tid('task-card')), 'a task card');
      break;
    case 'task':
      await visible(page.locator(tid('history-table')), 'the task history');
      break;
    case 'gantt': {
      const img = await visible(page.locator(tid('gantt-img')), 'the Gantt image');
      try {
        await page.waitForFunction(() => {
          const i = document.querySelector('[data-testid="gantt-img"]');
          return i && i.complete && i.naturalWidth > 0;
        }, null, { timeout: TIMEOUT });
      } catch (_) {
        throw new StepFailure(`the Gantt SVG did not load (${await img.getAttribute('src')})`);
      }
      break;
    }
    case 'metrics':
      await visible(page.locator(tid('metrics-kpis')), 'the metrics figures');
      assert(await page.locator('.svg-chart, .chart').count() > 0, 'the metrics page has no charts');
      break;
    case 'workload':
      await visible(page.locator(`${tid('workload-table')}, ${tid('workload-page')} .panel`), 'the workload table');
      break;
    case 'groups':
      await visible(page.locator(tid('group-item')), 'a group');
      break;
    case 'connectors':
      await visible(page.locator(`${tid('connector-item')}, ${tid('connectors-empty')}`), 'the connector list');
      break;
    case 'outbox':
      await visible(page.locator(tid('outbox-tabs')), 'the outbox tabs');
      break;
    case 'search':
      await visible(page.locator(tid('search-results')), 'search results');
      break;
    case 'playground':
      await visible(page.locator(tid('pg-input')), 'the playground input');
      break;
    case 'account':
      await visible(page.locator(tid('account-tokens')), 'the API tokens panel');
      await visible(page.locator(tid('account-role')), 'a project role');
      break;
    default:
      break;
  }
}

/** The playground transcript shows its newest message: scrolled to the bottom. */
async function transcriptAtBottom(page, what) {
  try {
    await page.waitForFunction(() => {
      const tr = document.querySelector('[data-testid="pg-transcript"]');
      return tr && !tr.dataset.loading && Math.abs(tr.scrollTop + tr.clientHeight - tr.scrollHeight) <= 2;
    }, null, { timeout: 5000 });
  } catch (_) {
    const m = await page.evaluate(() => {
      const tr = document.querySelector('[data-testid="pg-transcript"]');
      return tr ? { scrollTop: tr.scrollTop, clientHeight: tr.clientHeight, scrollHeight: tr.scrollHeight } : null;
    });
    throw new StepFailure(`${what}: the transcript is not scrolled to the bottom (${JSON.stringify(m)})`);
  }
}

async function waitTranscript(page) {
  try {
    await page.waitForFunction(() => {
      const tr = document.querySelector('[data-testid="pg-transcript"]');
      return tr && !tr.dataset.loading;
    }, null, { timeout: TIMEOUT });
  } catch (_) {
    throw new StepFailure('the playground transcript did not load');
  }
}
