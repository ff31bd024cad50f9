'use strict';
/*
 * Browser tests of the Identity Providers / Auto Provisioning Token page
 * (SPEC 5.2, issue 4 point 5): Debian's headless Chromium driven by
 * playwright-core, against a running admin location.
 *
 *   BASE_URL        the admin location with its trailing slash,
 *                   e.g. http://127.0.0.1:8529/t/acme/provisioning/
 *   ADMIN_USER      an administrator of that tenant (HTTP Basic)
 *   ADMIN_PASS      its password
 *   SCREENSHOT_DIR  where the numbered screenshots of every step go
 *                   (default: ./screenshots)
 *   CHROMIUM        the browser (default: /usr/bin/chromium)
 *   SCIM_URL        the tenant's SCIM endpoint (default: BASE_URL with
 *                   provisioning/ replaced by scim/v2/); the server must
 *                   take the client address from X-Forwarded-For sent by
 *                   127.0.0.1 (mod_remoteip, as t/conf/extra.conf.in does)
 *
 *   npm install --no-audit --no-fund && node --test page.test.js
 *
 * The steps run in order and build on each other (one provider, its tokens).
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

function env(name, fallback) {
    const v = process.env[name];

    if (v === undefined || v === '') {
        if (fallback === undefined) {
            throw new Error(`${name} must be set (see the top of ${path.basename(__filename)})`);
        }
        return fallback;
    }
    return v;
}

const BASE_URL = env('BASE_URL').replace(/\/?$/, '/');
const ADMIN_USER = env('ADMIN_USER');
const ADMIN_PASS = env('ADMIN_PASS');
const SCREENSHOT_DIR = path.resolve(env('SCREENSHOT_DIR', path.join(__dirname, 'screenshots')));
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const SCIM_URL = env('SCIM_URL', BASE_URL.replace(/provisioning\/$/, 'scim/v2/')).replace(/\/?$/, '/');
const IDP_ADDR = '203.0.113.7';
const DAY_MS = 24 * 3600 * 1000;

const JWT_RE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
const STAMP = new Date().toISOString().replace(/[-:TZ.]/g, '').slice(0, 14);
const OKTA_NAME = `Okta browser test ${STAMP}`;
const ENTRA_NAME = `Entra keyboard test ${STAMP}`;
const UNSUPPORTED_MSG = 'Account provisioning is only supported with Okta and Microsoft Entra ID.';
const STEP_TIMEOUT = 60000;

let browser;
let context;
let page;
let shots = 0;
const problems = [];      // CSP violations and uncaught script errors
const seen = {};          // what earlier steps learned (ids, tokens, username)

async function snap(name) {
    shots += 1;
    const file = path.join(SCREENSHOT_DIR, `${String(shots).padStart(2, '0')}-${name}.png`);

    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    return file;
}

/* Everything the page holds as text: the serialized DOM, what is rendered,
 * and the values of form fields (a textarea's value is not in its HTML). */
async function pageText() {
    const html = await page.content();
    const extra = await page.evaluate(() => {
        const values = Array.from(document.querySelectorAll('textarea, input'))
            .map((el) => el.value);

        return [document.body.innerText, ...values].join('\n');
    });

    return `${html}\n${extra}`;
}

async function apiCall(method, apiPath, body) {
    return page.evaluate(async ([m, p, b]) => {
        const opts = {
            method: m,
            credentials: 'same-origin',
            headers: { Accept: 'application/json' }
        };

        if (b !== null) {
            opts.headers['Content-Type'] = 'application/json';
            opts.body = JSON.stringify(b);
        }
        const res = await fetch(new URL(`api/${p}`, document.baseURI).href, opts);
        const text = await res.text();

        return { status: res.status, body: text ? JSON.parse(text) : null };
    }, [method, apiPath, body === undefined ? null : body]);
}

async function unreadBadge() {
    const badge = page.locator('#bell-badge');

    if (!(await badge.isVisible())) {
        return 0;
    }
    return parseInt(await badge.textContent(), 10) || 0;
}

async function activeElementInfo() {
    return page.evaluate(() => {
        const el = document.activeElement;

        return {
            tag: el ? el.tagName : null,
            id: el ? el.id : null,
            name: el ? (el.getAttribute('aria-label') || el.textContent || '').trim() : '',
            inDialog: !!(el && el.closest('dialog[open]')),
            outline: el ? getComputedStyle(el).outlineStyle : 'none'
        };
    });
}

/* Press Tab until the focused element's accessible name is `name`. */
async function tabTo(name, maxTabs = 200) {
    for (let i = 0; i < maxTabs; i++) {
        await page.keyboard.press('Tab');
        const info = await activeElementInfo();

        if (info.name === name) {
            return info;
        }
    }
    throw new Error(`"${name}" was not reached with ${maxTabs} presses of Tab`);
}

function tokenRows() {
    return page.locator('table[aria-labelledby="tokens-title"] tbody tr');
}

async function waitTokenRows(active, deleted) {
    await page.waitForFunction(([a, d]) => {
        const rows = document.querySelectorAll('table[aria-labelledby="tokens-title"] tbody tr');
        const n = (s) => Array.from(rows).filter((r) => r.dataset.status === s).length;

        return n('active') === a && n('deleted') === d;
    }, [active, deleted]);
}

describe('Auto Provisioning Token page in headless Chromium', { timeout: 10 * 60000 }, () => {
    before(async () => {
        fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
        browser = await chromium.launch({
            executablePath: CHROMIUM,
            args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                   '--disable-background-networking', '--disable-component-update', '--disable-sync']
        });
        context = await browser.newContext({
            httpCredentials: { username: ADMIN_USER, password: ADMIN_PASS },
            permissions: ['clipboard-read', 'clipboard-write'],
            viewport: { width: 1280, height: 860 },
            locale: 'en-US',
            timezoneId: 'UTC'
        });
        context.setDefaultTimeout(15000);
        page = await context.newPage();
        page.on('console', (msg) => {
            if (msg.type() === 'error' && /Content Security Policy|Refused to (load|execute|apply|run|evaluate)/i.test(msg.text())) {
                problems.push(`console: ${msg.text()}`);
            }
        });
        page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    });

    after(async () => {
        if (browser) {
            await browser.close();
        }
    });

    it('serves the Identity Providers page with the security headers, the administrator and the supported-IdP note',
        { timeout: STEP_TIMEOUT }, async () => {
            const res = await page.goto(BASE_URL);

            assert.equal(res.status(), 200);
            assert.match(res.headers()['content-type'], /^text\/html/);
            const csp = res.headers()['content-security-policy'] || '';
            assert.match(csp, /frame-ancestors 'none'/);
            assert.match(csp, /script-src 'self'/);
            assert.equal((res.headers()['x-frame-options'] || '').toUpperCase(), 'DENY');

            await page.getByRole('heading', { level: 1, name: 'Identity Providers' }).waitFor();
            await page.getByText('Account provisioning on this page currently only works with Okta and Microsoft Entra ID.').waitFor();
            await page.locator('#who-name').filter({ hasText: ADMIN_USER }).waitFor();
            await page.getByRole('button', { name: 'Notifications' }).waitFor();
            await page.getByRole('heading', { name: 'Accounts' }).waitFor();
            await snap('identity-providers');
        });

    it('creates an Okta identity provider', { timeout: STEP_TIMEOUT }, async () => {
        await page.getByLabel('Type').selectOption('okta');
        await page.getByLabel('Name', { exact: true }).fill(OKTA_NAME);
        await snap('add-okta-provider-form');
        await page.getByRole('button', { name: 'Add identity provider' }).click();
        const row = page.locator('tr[data-provider-id]').filter({ hasText: OKTA_NAME });

        await row.waitFor();
        assert.match(await row.innerText(), /Okta/);
        seen.oktaId = await row.getAttribute('data-provider-id');
        assert.ok(seen.oktaId, 'the row names its provider');
        await snap('okta-provider-created');
    });

    it('opens the Auto Provisioning Token page from the actions menu', { timeout: STEP_TIMEOUT }, async () => {
        const row = page.locator('tr[data-provider-id]').filter({ hasText: OKTA_NAME });

        await row.getByRole('button', { name: `Actions for ${OKTA_NAME}` }).click();
        const item = page.getByRole('menuitem', { name: 'Auto Provisioning Token' });

        await item.waitFor();
        await snap('actions-menu');
        await item.click();
        await page.getByRole('heading', { level: 1, name: 'Auto Provisioning Token' }).waitFor();
        await page.locator('#provider-name').filter({ hasText: OKTA_NAME }).waitFor();
        await page.getByRole('button', { name: 'Create new token' }).waitFor();
        await page.getByText('No tokens yet').waitFor();
        assert.equal(await page.locator('#generated-username').count(), 0,
            'no provisioning account before the first token');
        seen.unreadBefore = await unreadBadge();
        await snap('token-page-empty');
    });

    it('creates a first token: the Generated Administrator Username shows and the copy control puts the token on the clipboard',
        { timeout: STEP_TIMEOUT }, async () => {
            await page.getByRole('button', { name: 'Create new token' }).click();
            const box = page.getByRole('textbox', { name: 'Token (JWT)' });

            await box.waitFor();
            const token = await box.inputValue();

            assert.match(token, JWT_RE);
            assert.equal(await box.getAttribute('readonly'), '', 'the token text area is read-only');
            assert.equal(await box.isEditable(), false);
            await page.locator('#new-token-once').getByText('You will only be able to see this token once.').waitFor();

            const username = page.locator('#generated-username');

            await username.waitFor();
            seen.username = (await username.innerText()).trim();
            assert.ok(seen.username.length > 3, 'a generated administrator username is shown');
            await page.getByText('Generated Administrator Username', { exact: true }).waitFor();
            /* near the top: above the token list */
            const uBox = await username.boundingBox();
            const listBox = await page.getByRole('heading', { name: 'Tokens', exact: true }).boundingBox();
            assert.ok(uBox.y < listBox.y, 'the username is above the token list');

            await page.getByRole('button', { name: 'Copy token to clipboard' }).click();
            await page.getByText('Token copied to clipboard.').waitFor();
            const clip = await page.evaluate(() => navigator.clipboard.readText());

            assert.equal(clip, token, 'the clipboard holds exactly the token');
            await waitTokenRows(1, 0);
            const row = tokenRows().first();
            assert.match(await row.locator('td[data-label="Created by"]').innerText(), new RegExp(ADMIN_USER));
            assert.ok(await row.locator('td[data-label="Expires"] time').getAttribute('title'),
                'dates carry their ISO value in a title');
            seen.token1 = token;
            await snap('first-token-created');
        });

    it('creates a second token, and the first one is gone from the page', { timeout: STEP_TIMEOUT }, async () => {
        await page.getByRole('button', { name: 'Create new token' }).click();
        await page.waitForFunction((old) => {
            const t = document.querySelector('#new-token');

            return t && t.value && t.value !== old;
        }, seen.token1);
        seen.token2 = await page.getByRole('textbox', { name: 'Token (JWT)' }).inputValue();
        assert.match(seen.token2, JWT_RE);
        await waitTokenRows(2, 0);
        assert.ok(!(await pageText()).includes(seen.token1), 'the first token is no longer anywhere in the page');
        assert.equal(await page.locator('#new-token').count(), 1, 'one token text area');
        await page.getByRole('button', { name: 'Copy token to clipboard' }).click();
        await page.getByText('Token copied to clipboard.').waitFor();
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), seen.token2);
        await snap('second-token-created');
    });

    it('refuses a third token with the red popup "Could not create token." and the bell explains why',
        { timeout: STEP_TIMEOUT }, async () => {
            await page.getByRole('button', { name: 'Create new token' }).click();
            const popup = page.getByRole('alert').filter({ hasText: 'Could not create token.' });

            await popup.waitFor();
            /* red, top right */
            const look = await popup.evaluate((el) => {
                const r = el.getBoundingClientRect();

                return { bg: getComputedStyle(el).backgroundColor, right: r.right, top: r.top, vw: window.innerWidth };
            });
            const [r, g, b] = look.bg.match(/\d+/g).map(Number);

            assert.ok(r > 150 && g < 90 && b < 90, `the popup is red (${look.bg})`);
            assert.ok(look.vw - look.right < 40 && look.top < 160, 'the popup is in the top right');
            assert.equal(await page.locator('#new-token').count(), 0,
                'clicking Create new token discarded the previous token');
            assert.ok(!(await pageText()).includes(seen.token2), 'the second token is gone from the page');
            await waitTokenRows(2, 0);

            await page.waitForFunction((before) => {
                const badge = document.querySelector('#bell-badge');

                return badge && !badge.hidden && parseInt(badge.textContent, 10) > before;
            }, seen.unreadBefore);
            await snap('third-token-refused-red-popup');

            await page.getByRole('button', { name: 'Notifications' }).click();
            const panel = page.locator('#notifications-panel');

            await panel.getByText('too many provisioning tokens already exist').first().waitFor();
            await snap('bell-explains-too-many-tokens');
            /* opening the list marks the notifications read */
            await page.waitForFunction(() => document.querySelector('#bell-badge').hidden);
            await page.waitForFunction(async () => {
                const res = await fetch(new URL('api/notifications', document.baseURI).href,
                    { credentials: 'same-origin', headers: { Accept: 'application/json' } });
                const data = await res.json();

                return data.notifications.every((n) => n.read);
            });
            await page.keyboard.press('Escape');
            assert.equal(await panel.isVisible(), false);
            assert.equal((await activeElementInfo()).name, 'Notifications', 'Escape returns focus to the bell');
        });

    it('shows when each token was last used, and warns before deleting one used in the last 24 hours',
        { timeout: STEP_TIMEOUT }, async () => {
            const lastUsed = (id) => page.locator(`tr[data-token-id="${id}"] td[data-label="Last used"]`);
            const list = async () => (await apiCall('GET', `identity-providers/${seen.oktaId}/tokens`)).body.tokens;

            await page.getByRole('columnheader', { name: 'Last used' }).waitFor();
            for (const t of await list()) {
                assert.equal(t.lastUsedAt, null, 'no token used yet');
                assert.equal((await lastUsed(t.id).innerText()).trim(), 'never');
            }
            /* the identity provider uses the second token (through a proxy
             * that names it in X-Forwarded-For) */
            const res = await fetch(`${SCIM_URL}ServiceProviderConfig`, {
                headers: { Authorization: `Bearer ${seen.token2}`, 'X-Forwarded-For': IDP_ADDR }
            });
            assert.equal(res.status, 200, 'the SCIM request with the second token succeeds');
            /* the use reaches the list within the flush interval */
            let used;
            for (let i = 0; i < 50 && !used; i++) {
                used = (await list()).find((t) => t.lastUsedAt);
                if (!used) {
                    await page.waitForTimeout(200);
                }
            }
            assert.ok(used, 'the token list gives lastUsedAt after the SCIM request');
            assert.equal(used.lastUsedFrom, IDP_ADDR);
            seen.usedId = used.id;
            const unused = (await list()).find((t) => t.id !== used.id && t.status === 'active');

            await page.reload();
            await waitTokenRows(2, 0);
            assert.match((await lastUsed(used.id).innerText()).trim(),
                new RegExp(`^(just now|1 minute ago) from ${IDP_ADDR.replace(/\./g, '\\.')}$`));
            assert.equal(await lastUsed(used.id).locator('time').getAttribute('datetime'), used.lastUsedAt);
            assert.equal((await lastUsed(unused.id).innerText()).trim(), 'never');
            await snap('last-used-column');
            for (const id of [used.id, unused.id]) {
                /* visible where it is, not clipped by the table's scroll box */
                const inView = await page.locator(`tr[data-token-id="${id}"] button[aria-label="Delete token"]`).evaluate(
                    (b) => {
                        const r = b.getBoundingClientRect();
                        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);

                        return r.right <= window.innerWidth && !!hit && b.contains(hit);
                    });

                assert.ok(inView, 'with the Last used column the trash controls are still in view');
            }

            /* deleting the token in use: the dialog warns */
            const dialog = page.getByRole('dialog');

            await page.locator(`tr[data-token-id="${used.id}"]`).getByRole('button', { name: 'Delete token' }).click();
            await dialog.waitFor();
            const warning = dialog.locator('#delete-warning');

            assert.match((await warning.innerText()).trim(),
                new RegExp(`^This token was used (just now|1 minute ago) from ${IDP_ADDR.replace(/\./g, '\\.')}\\. ` +
                           'Okta or Microsoft Entra ID may still be using it; deleting it will stop provisioning\\.$'));
            assert.match(await dialog.getAttribute('aria-describedby'), /delete-warning/,
                'the warning is part of the dialog\'s description');
            await dialog.getByRole('button', { name: 'Yes, delete Provisioning token' }).waitFor();
            await snap('delete-warning-token-in-use');
            await page.keyboard.press('Escape');
            await dialog.waitFor({ state: 'detached' });

            /* the unused one: no warning */
            await page.locator(`tr[data-token-id="${unused.id}"]`).getByRole('button', { name: 'Delete token' }).click();
            await dialog.waitFor();
            assert.equal(await dialog.locator('#delete-warning').count(), 0, 'no warning for a token never used');
            await page.keyboard.press('Escape');
            await dialog.waitFor({ state: 'detached' });
            await waitTokenRows(2, 0);

            /* a day later (the page's clock moved 25 h on): "1 day ago", and
             * no warning any more */
            const later = await browser.newContext({
                httpCredentials: { username: ADMIN_USER, password: ADMIN_PASS },
                viewport: { width: 1280, height: 860 }, locale: 'en-US', timezoneId: 'UTC'
            });
            try {
                const p2 = await later.newPage();

                await p2.clock.install({ time: new Date(Date.parse(used.lastUsedAt) + DAY_MS + 3600 * 1000) });
                await p2.goto(`${BASE_URL}#/idp/${encodeURIComponent(seen.oktaId)}`);
                const cell = p2.locator(`tr[data-token-id="${used.id}"] td[data-label="Last used"]`);

                await cell.waitFor();
                assert.equal((await cell.innerText()).trim(), `1 day ago from ${IDP_ADDR}`);
                await p2.locator(`tr[data-token-id="${used.id}"]`).getByRole('button', { name: 'Delete token' }).click();
                await p2.getByRole('dialog').waitFor();
                assert.equal(await p2.locator('#delete-warning').count(), 0, 'no warning after 24 hours');
                await p2.screenshot({ path: path.join(SCREENSHOT_DIR, `${String(++shots).padStart(2, '0')}-last-used-a-day-later.png`),
                                      fullPage: true, animations: 'disabled' });
            } finally {
                await later.close();
            }
        });

    it('deletes a token through the confirmation dialog and lists it as deleted by the administrator',
        { timeout: STEP_TIMEOUT }, async () => {
            const dialog = page.getByRole('dialog');

            await tokenRows().first().getByRole('button', { name: 'Delete token' }).click();
            await dialog.waitFor();
            assert.equal(await dialog.getAttribute('aria-modal'), 'true');
            assert.ok((await activeElementInfo()).inDialog, 'focus moves into the dialog');
            for (let i = 0; i < 5; i++) {
                await page.keyboard.press('Tab');
                assert.ok((await activeElementInfo()).inDialog, 'Tab keeps the focus inside the dialog');
            }
            await page.keyboard.press('Escape');
            await dialog.waitFor({ state: 'detached' });
            await waitTokenRows(2, 0);
            assert.equal((await activeElementInfo()).name, 'Delete token', 'Escape cancels and returns focus');

            const target = tokenRows().first();
            seen.deletedId = await target.getAttribute('data-token-id');
            await target.getByRole('button', { name: 'Delete token' }).click();
            await dialog.waitFor();
            await dialog.getByRole('button', { name: 'Cancel' }).waitFor();
            await snap('delete-confirmation-dialog');
            await dialog.getByRole('button', { name: 'Yes, delete Provisioning token' }).click();
            await dialog.waitFor({ state: 'detached' });
            await waitTokenRows(1, 1);

            const row = page.locator(`tr[data-token-id="${seen.deletedId}"]`);
            assert.equal(await row.getAttribute('data-status'), 'deleted');
            assert.equal((await row.locator('td[data-label="Status"]').innerText()).trim(), 'Deleted');
            assert.equal((await row.locator('td[data-label="Deleted by"]').innerText()).trim(), ADMIN_USER);
            assert.ok(await row.locator('td[data-label="Deleted at"] time').getAttribute('datetime'));
            assert.equal(await row.getByRole('button', { name: 'Delete token' }).count(), 0,
                'a deleted token has no trash control');
            await snap('token-deleted');
        });

    it('discards a new token when the page is left', { timeout: STEP_TIMEOUT }, async () => {
        /* one token was deleted, so one more can be created */
        await page.getByRole('button', { name: 'Create new token' }).click();
        const box = page.getByRole('textbox', { name: 'Token (JWT)' });

        await box.waitFor();
        seen.token3 = await box.inputValue();
        assert.match(seen.token3, JWT_RE);
        await waitTokenRows(2, 1);
        await page.getByRole('link', { name: 'Identity Providers', exact: true }).first().click();
        await page.getByRole('heading', { level: 1, name: 'Identity Providers' }).waitFor();
        assert.ok(!(await pageText()).includes(seen.token3));
        await page.goBack();
        await page.getByRole('heading', { level: 1, name: 'Auto Provisioning Token' }).waitFor();
        await waitTokenRows(2, 1);
        assert.equal(await page.locator('#new-token').count(), 0);
        assert.ok(!(await pageText()).includes(seen.token3), 'the token did not come back');
    });

    it('shows no token text anywhere in the page after a reload', { timeout: STEP_TIMEOUT }, async () => {
        await page.reload();
        await page.getByRole('heading', { level: 1, name: 'Auto Provisioning Token' }).waitFor();
        await waitTokenRows(2, 1);
        await page.locator('#generated-username').filter({ hasText: seen.username }).waitFor();
        const text = await pageText();

        assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{8,}/, 'no JWT-looking text in the page');
        for (const t of [seen.token1, seen.token2, seen.token3]) {
            assert.ok(!text.includes(t));
        }
        const listed = await apiCall('GET', `identity-providers/${encodeURIComponent(seen.oktaId)}/tokens`);
        assert.doesNotMatch(JSON.stringify(listed.body), /eyJ/, 'the token list API carries no token');
        await snap('after-reload-no-token');
    });

    it('lists the provisioning account among the accounts, marked non-billable', { timeout: STEP_TIMEOUT }, async () => {
        await page.getByRole('link', { name: 'Accounts', exact: true }).click();
        await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
        const row = page.locator('table[aria-labelledby="accounts-title"] tbody tr').filter({ hasText: seen.username });

        await row.waitFor();
        const text = await row.innerText();

        assert.match(text, /Non-billable/);
        assert.match(text, /Provisioning account/);
        await snap('accounts-provisioning-account');
    });

    it('refuses any other identity provider type with the API\'s message', { timeout: STEP_TIMEOUT }, async () => {
        await page.getByRole('link', { name: 'Identity Providers', exact: true }).first().click();
        await page.getByRole('heading', { level: 1, name: 'Identity Providers' }).waitFor();
        await page.locator('tr[data-provider-id]').filter({ hasText: OKTA_NAME }).waitFor();
        const before = await page.locator('tr[data-provider-id]').count();

        await page.getByLabel('Type').selectOption('onelogin');
        await page.getByLabel('Name', { exact: true }).fill('OneLogin should be refused');
        await page.getByRole('button', { name: 'Add identity provider' }).click();
        await page.getByRole('alert').filter({ hasText: UNSUPPORTED_MSG }).waitFor();
        await snap('unsupported-provider-refused');
        assert.equal(await page.locator('tr[data-provider-id]').count(), before);
        assert.equal(await page.getByText('OneLogin should be refused').count(), 0);

        const direct = await apiCall('POST', 'identity-providers', { type: 'google', name: 'Google' });
        assert.equal(direct.status, 400);
        assert.equal(direct.body.error, 'unsupported_identity_provider');
        assert.equal(direct.body.message, UNSUPPORTED_MSG);
    });

    it('shows user-supplied text as text, never as markup', { timeout: STEP_TIMEOUT }, async () => {
        const evil = `<img src=x id=xss-probe onerror="window.__xss=1"><b>bold</b> ${STAMP}`;

        await page.getByLabel('Type').selectOption('okta');
        await page.getByLabel('Name', { exact: true }).fill(evil);
        await page.getByRole('button', { name: 'Add identity provider' }).click();
        const row = page.locator('tr[data-provider-id]').filter({ hasText: evil });

        await row.waitFor();
        assert.equal(await page.locator('#xss-probe').count(), 0);
        assert.equal(await row.locator('b').count(), 0);
        assert.equal(await page.evaluate(() => window.__xss), undefined);
        await row.getByRole('button', { name: /^Actions for / }).click();
        await page.getByRole('menuitem', { name: 'Auto Provisioning Token' }).click();
        await page.locator('#provider-name').filter({ hasText: evil }).waitFor();
        assert.equal(await page.locator('#xss-probe').count(), 0);
        await page.goBack();
    });

    it('is operable with the keyboard alone', { timeout: STEP_TIMEOUT }, async () => {
        const created = await apiCall('POST', 'identity-providers', { type: 'entra', name: ENTRA_NAME });

        assert.equal(created.status, 201);
        seen.entraId = created.body.id;
        await page.goto(BASE_URL);
        await page.locator('tr[data-provider-id]').filter({ hasText: ENTRA_NAME }).waitFor();

        /* actions menu: Enter opens it on its first item, Enter follows it */
        let info = await tabTo(`Actions for ${ENTRA_NAME}`);
        assert.equal(info.outline, 'solid', 'the focused control has a visible focus ring');
        await page.keyboard.press('Enter');
        assert.equal((await activeElementInfo()).name, 'Auto Provisioning Token');
        await snap('keyboard-actions-menu');
        await page.keyboard.press('Enter');
        await page.getByRole('heading', { level: 1, name: 'Auto Provisioning Token' }).waitFor();
        await page.locator('#provider-name').filter({ hasText: ENTRA_NAME }).waitFor();
        await page.getByText('No tokens yet').waitFor();

        info = await tabTo('Create new token');
        assert.equal(info.outline, 'solid');
        await snap('keyboard-focus-on-create');
        await page.keyboard.press('Enter');
        const box = page.getByRole('textbox', { name: 'Token (JWT)' });

        await box.waitFor();
        const token = await box.inputValue();
        assert.match(token, JWT_RE);
        await page.locator('#generated-username').waitFor();

        info = await tabTo('Copy token to clipboard', 5);
        await page.keyboard.press('Enter');
        await page.getByText('Token copied to clipboard.').waitFor();
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
        await waitTokenRows(1, 0);
        await snap('keyboard-token-created');

        await tabTo('Delete token');
        await page.keyboard.press('Enter');
        await page.getByRole('dialog').waitFor();
        assert.equal((await activeElementInfo()).name, 'Cancel', 'the dialog opens on Cancel');
        await page.keyboard.press('Tab');
        assert.equal((await activeElementInfo()).name, 'Yes, delete Provisioning token');
        await page.keyboard.press('Enter');
        await page.getByRole('dialog').waitFor({ state: 'detached' });
        await waitTokenRows(0, 1);
        await snap('keyboard-token-deleted');
    });

    it('is readable on a 360 px wide screen', { timeout: STEP_TIMEOUT }, async () => {
        await page.setViewportSize({ width: 360, height: 780 });
        await page.goto(`${BASE_URL}#/idp/${encodeURIComponent(seen.oktaId)}`);
        await page.getByRole('heading', { level: 1, name: 'Auto Provisioning Token' }).waitFor();
        await waitTokenRows(2, 1);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

        assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
        assert.ok(await page.getByRole('button', { name: 'Create new token' }).isVisible());
        await snap('narrow-token-page');
        await page.goto(BASE_URL);
        await page.locator('tr[data-provider-id]').filter({ hasText: OKTA_NAME }).waitFor();
        const overflow2 = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

        assert.ok(overflow2 <= 0, `no horizontal scrolling on the providers page (overflow ${overflow2}px)`);
        await snap('narrow-identity-providers');
        await page.setViewportSize({ width: 1280, height: 860 });
    });

    it('shows loading and error states, and the red popup for any refused creation', { timeout: STEP_TIMEOUT }, async () => {
        const unavailable = {
            status: 503,
            contentType: 'application/json',
            headers: { 'Retry-After': '5' },
            body: JSON.stringify({ error: 'unavailable', message: 'The service is temporarily unavailable; try again shortly.' })
        };

        /* the list fails (slowly) once: loading, then an error with a retry */
        await page.route('**/api/identity-providers', async (route) => {
            if (route.request().method() !== 'GET') {
                return route.continue();
            }
            await new Promise((r) => setTimeout(r, 700));
            return route.fulfill(unavailable);
        });
        await page.goto(BASE_URL);
        await page.getByText('Loading identity providers…').waitFor();
        await snap('loading-state');
        const failure = page.getByRole('alert').filter({ hasText: 'temporarily unavailable' });

        await failure.waitFor();
        await snap('error-state-with-retry');
        await page.unroute('**/api/identity-providers');
        await failure.getByRole('button', { name: 'Try again' }).click();
        await page.locator('tr[data-provider-id]').filter({ hasText: OKTA_NAME }).waitFor();

        /* any error on create gives the red popup, with the server's reason */
        await page.goto(`${BASE_URL}#/idp/${encodeURIComponent(seen.entraId)}`);
        await waitTokenRows(0, 1);
        await page.route('**/api/identity-providers/*/tokens', (route) =>
            route.request().method() === 'POST' ? route.fulfill(unavailable) : route.continue());
        await page.getByRole('button', { name: 'Create new token' }).click();
        const popup = page.getByRole('alert').filter({ hasText: 'Could not create token.' });

        await popup.waitFor();
        assert.match(await popup.innerText(), /temporarily unavailable/);
        assert.equal(await page.locator('#new-token').count(), 0);
        await snap('create-failed-red-popup');
        await page.unroute('**/api/identity-providers/*/tokens');
    });

    it('ran without Content-Security-Policy violations or script errors', () => {
        assert.deepEqual(problems, []);
    });
});
