/* mod_scim_provision: the Identity Providers and Auto Provisioning Token page.
 *
 * Plain JavaScript, no framework, no external resources: the module serves
 * this file with "script-src 'self'". Every piece of data from the server is
 * put into the page with textContent / createElement, never as HTML.
 *
 * Routes (hash): #/ identity providers, #/accounts, #/idp/<id> the Auto
 * Provisioning Token page of one provider.
 *
 * A newly created token is shown once, in a read-only text area. It lives
 * only in that text area's value: it is removed from the page (and no
 * reference to it is kept) when the route changes, the page is left, or
 * "Create new token" is clicked again. */
(function () {
    'use strict';

    var TYPE_LABELS = { okta: 'Okta', entra: 'Microsoft Entra ID' };
    var OTHER_TYPES = [
        ['onelogin', 'OneLogin'],
        ['pingidentity', 'Ping Identity'],
        ['google', 'Google Workspace'],
        ['jumpcloud', 'JumpCloud'],
        ['other', 'Another identity provider']
    ];
    var SUPPORTED_NOTE = 'Account provisioning on this page currently only works with Okta and Microsoft Entra ID.';
    var UNSUPPORTED_MSG = 'Account provisioning is only supported with Okta and Microsoft Entra ID.';
    var ROLE_LABELS = { system: 'System administrator', customer: 'Customer Administrator' };
    var SVG_NS = 'http://www.w3.org/2000/svg';
    var ICONS = {
        bell: ['M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9', 'M13.73 21a2 2 0 0 1-3.46 0'],
        trash: ['M3 6h18', 'M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6m3 0V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2', 'M10 11v6', 'M14 11v6'],
        copy: ['M11 9h9a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-9a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2z', 'M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1'],
        more: ['M12 12h.01', 'M12 5h.01', 'M12 19h.01'],
        plus: ['M12 5v14', 'M5 12h14'],
        key: ['M21 2l-2 2m-7.61 7.61a5.5 5.5 0 1 1-7.778 7.778 5.5 5.5 0 0 1 7.777-7.777zm0 0L15.5 7.5m0 0l3 3L22 7l-3-3m-3.5 3.5L19 4'],
        x: ['M18 6 6 18', 'M6 6l12 12'],
        alert: ['M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z', 'M12 8v4', 'M12 16h.01'],
        info: ['M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z', 'M12 16v-4', 'M12 8h.01'],
        check: ['M20 6 9 17l-5-5'],
        back: ['M19 12H5', 'M12 19l-7-7 7-7'],
        warn: ['M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z', 'M12 9v4', 'M12 17h.01'],
        user: ['M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2', 'M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z'],
        refresh: ['M23 4v6h-6', 'M20.49 15a9 9 0 1 1-2.12-9.36L23 10']
    };

    var state = {
        me: null,
        notifications: [],
        seenNew: {},        // ids that were unread when the panel was last opened
        gen: 0,             // route generation: late answers for an old route are dropped
        firstRoute: true
    };

    /* The one place where a newly created token lives: { panel, textarea }. */
    var secret = null;

    /* ------------------------------------------------------------------ */
    /* DOM helpers                                                          */

    function h(tag, attrs) {
        var el = document.createElement(tag);
        var i, k, v;

        if (attrs) {
            for (k in attrs) {
                if (!Object.prototype.hasOwnProperty.call(attrs, k)) {
                    continue;
                }
                v = attrs[k];
                if (v === null || v === undefined || v === false) {
                    continue;
                }
                if (k === 'class') {
                    el.className = v;
                } else if (k === 'text') {
                    el.textContent = v;
                } else if (k.slice(0, 2) === 'on' && typeof v === 'function') {
                    el.addEventListener(k.slice(2), v);
                } else if (k === 'value' || k === 'readOnly' || k === 'disabled' || k === 'hidden') {
                    el[k] = v;
                } else {
                    el.setAttribute(k, v === true ? '' : String(v));
                }
            }
        }
        for (i = 2; i < arguments.length; i++) {
            append(el, arguments[i]);
        }
        return el;
    }

    function append(el, child) {
        var i;

        if (child === null || child === undefined || child === false) {
            return;
        }
        if (Array.isArray(child)) {
            for (i = 0; i < child.length; i++) {
                append(el, child[i]);
            }
        } else if (typeof child === 'string' || typeof child === 'number') {
            el.appendChild(document.createTextNode(String(child)));
        } else {
            el.appendChild(child);
        }
    }

    function icon(name, cls) {
        var svg = document.createElementNS(SVG_NS, 'svg');
        var paths = ICONS[name] || [];
        var i, p;

        svg.setAttribute('viewBox', '0 0 24 24');
        svg.setAttribute('aria-hidden', 'true');
        svg.setAttribute('focusable', 'false');
        svg.setAttribute('class', 'icon' + (cls ? ' ' + cls : ''));
        for (i = 0; i < paths.length; i++) {
            p = document.createElementNS(SVG_NS, 'path');
            p.setAttribute('d', paths[i]);
            svg.appendChild(p);
        }
        return svg;
    }

    function $(id) {
        return document.getElementById(id);
    }

    function announce(text) {
        var el = $('announcer');

        el.textContent = '';
        window.setTimeout(function () { el.textContent = text; }, 30);
    }

    /* A date as readable local text, the ISO value in title/datetime. */
    function dateEl(iso) {
        var d, text;

        if (!iso) {
            return h('span', { class: 'dash', 'aria-label': 'none' }, '—');
        }
        d = new Date(iso);
        if (isNaN(d.getTime())) {
            return h('span', null, String(iso));
        }
        try {
            text = new Intl.DateTimeFormat(undefined, {
                year: 'numeric', month: 'short', day: 'numeric',
                hour: '2-digit', minute: '2-digit'
            }).format(d);
        } catch (e) {
            text = d.toLocaleString();
        }
        return h('time', { datetime: iso, title: iso, class: 'nowrap' }, text);
    }

    /* "3 minutes ago": how long ago an ISO time was, in words. */
    function timeAgo(iso) {
        var secs = Math.floor((Date.now() - new Date(iso).getTime()) / 1000);
        var steps = [[86400, 'day'], [3600, 'hour'], [60, 'minute']];
        var i, n;

        if (isNaN(secs)) {
            return String(iso);
        }
        for (i = 0; i < steps.length; i++) {
            if (secs >= steps[i][0]) {
                n = Math.floor(secs / steps[i][0]);
                return n + ' ' + steps[i][1] + (n === 1 ? '' : 's') + ' ago';
            }
        }
        return 'just now';
    }

    /* The last use of a token: "never", or "3 minutes ago from 203.0.113.7". */
    function lastUsedText(t) {
        if (!t.lastUsedAt) {
            return 'never';
        }
        return timeAgo(t.lastUsedAt) + (t.lastUsedFrom ? ' from ' + t.lastUsedFrom : '');
    }

    function lastUsedEl(t) {
        if (!t.lastUsedAt) {
            return h('span', { class: 'muted last-used never' }, 'never');
        }
        return h('span', { class: 'last-used' },
            h('time', { datetime: t.lastUsedAt, title: t.lastUsedAt }, timeAgo(t.lastUsedAt)),
            t.lastUsedFrom ? h('span', { class: 'nowrap' }, ' from ' + t.lastUsedFrom) : null);
    }

    /* Used in the last 24 hours: deleting it probably stops provisioning. */
    function recentlyUsed(t) {
        var at = t.lastUsedAt ? new Date(t.lastUsedAt).getTime() : NaN;

        return !isNaN(at) && Date.now() - at < 24 * 3600 * 1000;
    }

    function dash(value) {
        return value ? String(value) : h('span', { class: 'dash', 'aria-label': 'none' }, '—');
    }

    function typeLabel(type) {
        return TYPE_LABELS[type] || String(type);
    }

    function typeEl(type) {
        var known = Object.prototype.hasOwnProperty.call(TYPE_LABELS, type);

        return h('span', { class: 'idp-type' },
            h('span', { class: 'idp-logo ' + (known ? type : ''), 'aria-hidden': 'true' },
              type === 'okta' ? 'OK' : type === 'entra' ? 'ID' : '?'),
            typeLabel(type));
    }

    /* ------------------------------------------------------------------ */
    /* API                                                                  */

    function ApiError(status, code, message) {
        this.status = status;
        this.code = code;
        this.message = message;
    }

    function api(method, path, body) {
        var opts = {
            method: method,
            credentials: 'same-origin',
            cache: 'no-store',
            redirect: 'manual',
            headers: { 'Accept': 'application/json' }
        };

        if (body !== undefined) {
            opts.headers['Content-Type'] = 'application/json';
            opts.body = JSON.stringify(body);
        }
        return fetch(new URL('api/' + path, document.baseURI).href, opts).then(function (res) {
            var ctype, parsed;

            if (res.type === 'opaqueredirect') {
                /* a sign-in module (OpenID Connect, SAML, ...) wants the
                 * browser elsewhere: the session has ended */
                throw new ApiError(401, 'session_expired',
                    'Your sign-in has expired. Reload the page to sign in again.');
            }
            ctype = res.headers.get('Content-Type') || '';
            parsed = /json/i.test(ctype) ? res.json().catch(function () { return null; })
                                             : Promise.resolve(null);

            return parsed.then(function (data) {
                if (!res.ok) {
                    throw new ApiError(res.status,
                        (data && typeof data.error === 'string') ? data.error : 'http_' + res.status,
                        (data && typeof data.message === 'string' && data.message)
                            ? data.message : defaultMessage(res.status));
                }
                return res.status === 204 ? null : data;
            });
        }, function () {
            throw new ApiError(0, 'network',
                'The server could not be reached. Check your connection and try again.');
        });
    }

    function defaultMessage(status) {
        if (status === 401) {
            return 'Your sign-in has expired. Reload the page to sign in again.';
        }
        if (status === 403) {
            return 'You are not an administrator of this tenant.';
        }
        if (status === 503) {
            return 'The service is temporarily unavailable; try again shortly.';
        }
        return 'The request failed (HTTP ' + status + ').';
    }

    function idpPath(id) {
        return 'identity-providers/' + encodeURIComponent(id);
    }

    /* ------------------------------------------------------------------ */
    /* toasts ("red popup", top right)                                      */

    function toast(kind, title, detail) {
        var box = $('toasts');
        var el, timer;

        function close() {
            window.clearTimeout(timer);
            if (el.parentNode) {
                el.parentNode.removeChild(el);
            }
        }
        el = h('div', { class: 'toast ' + kind, role: kind === 'error' ? 'alert' : 'status' },
            icon(kind === 'error' ? 'alert' : 'check'),
            h('div', { class: 'toast-text' },
                h('span', { class: 'toast-title' }, title),
                detail ? h('span', { class: 'toast-detail' }, detail) : null),
            h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', onclick: close },
                icon('x', 'small')));
        box.appendChild(el);
        while (box.children.length > 4) {
            box.removeChild(box.firstChild);
        }
        timer = window.setTimeout(close, kind === 'error' ? 12000 : 6000);
        el.addEventListener('mouseenter', function () { window.clearTimeout(timer); });
        el.addEventListener('focusin', function () { window.clearTimeout(timer); });
        return el;
    }

    /* ------------------------------------------------------------------ */
    /* header: tenant, administrator, notifications                         */

    function loadMe() {
        return api('GET', 'me').then(function (me) {
            var tenant = $('tenant-name');
            var name, slug;

            state.me = me;
            if (me && me.tenant) {
                name = me.tenant.name || me.tenant.slug || '';
                slug = me.tenant.slug || '';
                tenant.textContent = '';
                append(tenant, [h('span', { class: 'tenant-label' }, 'Tenant: '), h('strong', null, name),
                                slug && slug !== name ? ' (' + slug + ')' : '']);
                tenant.title = 'Tenant ' + name + (slug ? ' (' + slug + ')' : '');
                tenant.hidden = false;
            }
            if (me && me.userName) {
                $('who-name').textContent = me.userName;
                $('who-role').textContent = ROLE_LABELS[me.role] || me.role || '';
                $('who').title = 'Signed in as ' + me.userName;
                $('who').hidden = false;
            }
        }, function () { /* the header stays without it */ });
    }

    function unreadCount() {
        var n = 0;
        var i;

        for (i = 0; i < state.notifications.length; i++) {
            if (!state.notifications[i].read) {
                n++;
            }
        }
        return n;
    }

    function renderBell() {
        var n = unreadCount();
        var badge = $('bell-badge');

        badge.textContent = n > 99 ? '99+' : String(n);
        badge.hidden = n === 0;
        $('bell-count-text').textContent = n === 0 ? 'No unread notifications'
            : n === 1 ? '1 unread notification' : n + ' unread notifications';
    }

    function refreshNotifications() {
        return api('GET', 'notifications').then(function (data) {
            var list = (data && Array.isArray(data.notifications)) ? data.notifications.slice() : [];

            list.sort(function (a, b) {
                return String(b.createdAt).localeCompare(String(a.createdAt));
            });
            state.notifications = list;
            renderBell();
            if (!$('notifications-panel').hidden) {
                renderNotificationList();
                markAllRead();
            }
        }, function () { /* keep the last known list */ });
    }

    function renderNotificationList() {
        var body = $('notifications-list');
        var list = state.notifications;
        var ul, i, n, isNew;

        body.textContent = '';
        if (!list.length) {
            body.appendChild(h('p', { class: 'empty' }, 'You have no notifications.'));
            return;
        }
        ul = h('ul', { class: 'notification-list' });
        for (i = 0; i < list.length; i++) {
            n = list[i];
            isNew = !n.read || state.seenNew[n.id];
            ul.appendChild(h('li', { class: 'notification' + (isNew ? ' is-new' : '') },
                h('p', { class: 'notification-message' }, String(n.message || '')),
                h('div', { class: 'notification-meta' },
                    isNew ? h('span', { class: 'new-dot' }, 'New') : null,
                    dateEl(n.createdAt))));
        }
        body.appendChild(ul);
    }

    function markAllRead() {
        var i, n;

        for (i = 0; i < state.notifications.length; i++) {
            n = state.notifications[i];
            if (!n.read) {
                state.seenNew[n.id] = true;
                n.read = true;
                api('POST', 'notifications/' + encodeURIComponent(n.id) + '/read', {})
                    .catch(function () { /* shown again as unread next time */ });
            }
        }
        renderBell();
    }

    function openNotifications() {
        var panel = $('notifications-panel');

        state.seenNew = {};
        renderNotificationList();
        panel.hidden = false;
        $('bell').setAttribute('aria-expanded', 'true');
        panel.focus();
        markAllRead();
        refreshNotifications();
    }

    function closeNotifications(returnFocus) {
        var panel = $('notifications-panel');

        if (panel.hidden) {
            return;
        }
        panel.hidden = true;
        $('bell').setAttribute('aria-expanded', 'false');
        if (returnFocus) {
            $('bell').focus();
        }
    }

    function setupHeader() {
        var panel = $('notifications-panel');

        $('bell').addEventListener('click', function () {
            if (panel.hidden) {
                openNotifications();
            } else {
                closeNotifications(false);
            }
        });
        $('notifications-close').addEventListener('click', function () {
            closeNotifications(true);
        });
        panel.addEventListener('keydown', function (ev) {
            if (ev.key === 'Escape') {
                ev.stopPropagation();
                closeNotifications(true);
            }
        });
        document.addEventListener('click', function (ev) {
            if (!panel.hidden && !panel.contains(ev.target) && !$('bell').contains(ev.target)) {
                closeNotifications(false);
            }
        });
        document.addEventListener('focusin', function (ev) {
            if (!panel.hidden && !panel.contains(ev.target) && ev.target !== $('bell')) {
                closeNotifications(false);
            }
        });
        $('skip-link').addEventListener('click', function () {
            var target = document.querySelector('main h1') || $('main');

            target.setAttribute('tabindex', '-1');
            target.focus();
        });
    }

    /* ------------------------------------------------------------------ */
    /* the token shown once                                                 */

    function discardSecret() {
        var s = secret;

        secret = null;
        if (!s) {
            return;
        }
        s.textarea.value = '';
        s.textarea.defaultValue = '';
        if (s.panel.parentNode) {
            s.panel.parentNode.removeChild(s.panel);
        }
        s.panel = null;
        s.textarea = null;
    }

    function copyText(textarea) {
        var value = textarea.value;

        function fallback() {
            var ok = false;

            textarea.focus();
            textarea.select();
            try {
                ok = document.execCommand('copy');
            } catch (e) {
                ok = false;
            }
            return ok;
        }
        if (navigator.clipboard && window.isSecureContext) {
            return navigator.clipboard.writeText(value).then(function () { return true; },
                function () { return fallback(); });
        }
        return Promise.resolve(fallback());
    }

    /* Copy a short, non-secret text (the generated username). */
    function copyUserBtn(value) {
        var btn = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Copy username' },
            icon('copy', 'small'), 'Copy');

        btn.addEventListener('click', function () {
            var done = function (ok) {
                announce(ok ? 'Username copied to clipboard.' : 'Copying failed.');
                btn.lastChild.textContent = ok ? 'Copied' : 'Copy failed';
                window.setTimeout(function () { btn.lastChild.textContent = 'Copy'; }, 2000);
            };
            var fallback = function () {
                var ta = h('textarea', { class: 'visually-hidden', readOnly: true, 'aria-hidden': 'true' });
                var ok = false;

                ta.value = value;
                document.body.appendChild(ta);
                ta.select();
                try {
                    ok = document.execCommand('copy');
                } catch (e) {
                    ok = false;
                }
                document.body.removeChild(ta);
                btn.focus();
                return ok;
            };

            if (navigator.clipboard && window.isSecureContext) {
                navigator.clipboard.writeText(value).then(function () { done(true); },
                    function () { done(fallback()); });
            } else {
                done(fallback());
            }
        });
        return btn;
    }

    function showSecret(slot, issued) {
        var textarea, status, panel, copyBtn;

        discardSecret();
        textarea = h('textarea', {
            id: 'new-token',
            readOnly: true,
            rows: 4,
            spellcheck: 'false',
            autocomplete: 'off',
            autocapitalize: 'off',
            'aria-describedby': 'new-token-once'
        });
        textarea.value = issued.token;
        status = h('span', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });
        copyBtn = h('button', { type: 'button', class: 'btn primary', id: 'copy-token' },
            icon('copy'), 'Copy token to clipboard');
        copyBtn.addEventListener('click', function () {
            if (!secret || secret.textarea !== textarea) {
                return;
            }
            status.classList.remove('failed');
            status.textContent = '';
            copyText(textarea).then(function (ok) {
                status.classList.toggle('failed', !ok);
                status.textContent = ok ? 'Token copied to clipboard.'
                    : 'Copying failed: select the token and press Ctrl+C (⌘C).';
            });
        });
        textarea.addEventListener('focus', function () { textarea.select(); });

        panel = h('section', { class: 'secret', 'aria-labelledby': 'new-token-title' },
            h('h2', { id: 'new-token-title' }, icon('key'), 'New provisioning token'),
            h('label', { for: 'new-token' }, 'Token (JWT)'),
            h('div', { class: 'secret-row' },
                textarea,
                h('div', { class: 'secret-actions' }, copyBtn)),
            status,
            h('p', { class: 'once', id: 'new-token-once' },
                icon('warn'),
                h('span', null,
                    h('strong', null, 'You will only be able to see this token once. '),
                    'When you close this page (or click the Create new token button again), it is gone forever. ' +
                    'Copy it now and enter it, with the generated administrator username, in your identity provider.')),
            h('p', { class: 'meta' },
                'Created ', dateEl(issued.createdAt), ' · expires ', dateEl(issued.expiresAt),
                issued.userName ? [' · for ', h('span', { class: 'mono' }, String(issued.userName))] : null));
        slot.appendChild(panel);
        secret = { panel: panel, textarea: textarea };
        textarea.focus();
    }

    /* ------------------------------------------------------------------ */
    /* views                                                                */

    function mainEl() {
        return $('main');
    }

    function setView(title, nodes) {
        var main = mainEl();
        var h1;

        closeMenus();
        main.textContent = '';
        append(main, nodes);
        document.title = title + ' · SCIM Provisioning';
        h1 = main.querySelector('h1');
        if (h1) {
            h1.setAttribute('tabindex', '-1');
            if (!state.firstRoute) {
                h1.focus({ preventScroll: false });
            }
        }
        state.firstRoute = false;
        window.scrollTo(0, 0);
    }

    function loadingEl(text) {
        return h('p', { class: 'loading', role: 'status' }, text || 'Loading…');
    }

    function errorEl(err, retry) {
        return h('div', { class: 'error-box', role: 'alert' },
            icon('alert'),
            h('p', null, err && err.message ? err.message : 'Something went wrong.'),
            retry ? h('button', { type: 'button', class: 'btn small', onclick: retry },
                      icon('refresh', 'small'), 'Try again') : null);
    }

    function th(text) {
        return h('th', { scope: 'col' }, text);
    }

    function td(label, content, cls) {
        return h('td', { 'data-label': label, class: cls || null }, content);
    }

    /* ---------- actions menu ---------- */

    var openMenu = null;

    function closeMenus(focusButton) {
        var m = openMenu;

        openMenu = null;
        if (!m) {
            return;
        }
        m.menu.hidden = true;
        m.button.setAttribute('aria-expanded', 'false');
        if (focusButton) {
            m.button.focus();
        }
    }

    function actionsMenu(label, items) {
        var menuId = 'menu-' + Math.random().toString(36).slice(2);
        var button = h('button', {
            type: 'button', class: 'icon-button menu-button',
            'aria-label': label, 'aria-haspopup': 'menu', 'aria-expanded': 'false',
            'aria-controls': menuId, title: 'Actions'
        }, icon('more'));
        var menu = h('ul', { class: 'menu', role: 'menu', id: menuId, hidden: true, 'aria-label': label });
        var links = [];
        var wrap, i;

        for (i = 0; i < items.length; i++) {
            links.push(h('a', { class: 'menu-item', role: 'menuitem', href: items[i].href, tabindex: '-1' },
                icon(items[i].icon), items[i].text));
            menu.appendChild(h('li', { role: 'none' }, links[i]));
        }

        function open(focusIndex) {
            var rect;

            closeMenus();
            menu.hidden = false;
            menu.classList.remove('up');
            rect = menu.getBoundingClientRect();
            if (rect.bottom > window.innerHeight - 8 && button.getBoundingClientRect().top > rect.height + 16) {
                menu.classList.add('up');
            }
            button.setAttribute('aria-expanded', 'true');
            openMenu = { menu: menu, button: button };
            links[(focusIndex + links.length) % links.length].focus();
        }

        button.addEventListener('click', function (ev) {
            ev.stopPropagation();
            if (menu.hidden) {
                open(0);
            } else {
                closeMenus(true);
            }
        });
        button.addEventListener('keydown', function (ev) {
            if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
                ev.preventDefault();
                open(ev.key === 'ArrowDown' ? 0 : -1);
            }
        });
        menu.addEventListener('keydown', function (ev) {
            var idx = links.indexOf(document.activeElement);

            if (ev.key === 'Escape') {
                ev.preventDefault();
                ev.stopPropagation();
                closeMenus(true);
            } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
                ev.preventDefault();
                idx += ev.key === 'ArrowDown' ? 1 : -1;
                links[(idx + links.length) % links.length].focus();
            } else if (ev.key === 'Home' || ev.key === 'End') {
                ev.preventDefault();
                links[ev.key === 'Home' ? 0 : links.length - 1].focus();
            } else if (ev.key === 'Tab') {
                closeMenus(false);
            } else if (ev.key === ' ') {
                ev.preventDefault();
                if (idx >= 0) {
                    links[idx].click();
                }
            }
        });
        wrap = h('div', { class: 'menu-wrap' }, button, menu);
        return wrap;
    }

    /* ---------- Identity Providers ---------- */

    function providersTable(list) {
        var tbody = h('tbody');
        var i, p, href;

        for (i = 0; i < list.length; i++) {
            p = list[i];
            href = '#/idp/' + encodeURIComponent(p.id);
            tbody.appendChild(h('tr', { 'data-provider-id': p.id },
                td('Name', h('a', { href: href, class: 'cell-main' }, String(p.name || typeLabel(p.type)))),
                td('Type', typeEl(p.type)),
                td('Created', dateEl(p.createdAt)),
                td('Actions', actionsMenu('Actions for ' + (p.name || typeLabel(p.type)), [
                    { href: href, icon: 'key', text: 'Auto Provisioning Token' }
                ]), 'actions')));
        }
        /* no scrolling wrapper here: it would clip the actions menu */
        return h('div', { class: 'table-wrap menus' },
            h('table', { class: 'data stack with-menu', 'aria-labelledby': 'providers-title' },
                h('thead', null, h('tr', null, th('Name'), th('Type'), th('Created'),
                    h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
                tbody));
    }

    function providerForm(onCreated) {
        var select = h('select', { id: 'idp-type', name: 'type', required: true },
            h('option', { value: 'okta' }, 'Okta'),
            h('option', { value: 'entra' }, 'Microsoft Entra ID'),
            h('optgroup', { label: 'Not supported' },
                OTHER_TYPES.map(function (t) { return h('option', { value: t[0] }, t[1]); })));
        var name = h('input', {
            type: 'text', id: 'idp-name', name: 'name', maxlength: '200',
            autocomplete: 'off', placeholder: 'e.g. Okta (production)',
            'aria-describedby': 'idp-name-hint'
        });
        var submit = h('button', { type: 'submit', class: 'btn primary' }, icon('plus'), 'Add identity provider');
        var hint = h('p', { class: 'form-hint-unsupported', id: 'idp-type-hint', hidden: true },
            'Account provisioning is not supported with this identity management service at this time.');
        var error = h('p', { class: 'form-error', role: 'alert', hidden: true });
        var busy = false;
        var form;

        function showError(message) {
            hint.hidden = true;
            error.textContent = '';
            append(error, [icon('alert'), h('span', null, message)]);
            error.hidden = false;
        }

        select.addEventListener('change', function () {
            hint.hidden = Object.prototype.hasOwnProperty.call(TYPE_LABELS, select.value);
            error.hidden = true;
        });
        form = h('form', { class: 'form-grid', novalidate: true, 'aria-labelledby': 'add-provider-title' },
            h('div', { class: 'field' },
                h('label', { for: 'idp-type' }, 'Type'), select),
            h('div', { class: 'field' },
                h('label', { for: 'idp-name' }, 'Name'), name,
                h('span', { class: 'hint', id: 'idp-name-hint' }, 'Optional. Shown in this list and in reminder e-mails.')),
            h('div', { class: 'field' }, submit),
            hint,
            error);
        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            if (busy) {
                return;
            }
            busy = true;
            error.hidden = true;
            submit.setAttribute('aria-disabled', 'true');
            api('POST', 'identity-providers', { type: select.value, name: name.value.trim() })
                .then(function (p) {
                    name.value = '';
                    toast('success', 'Identity provider added', String(p.name || typeLabel(p.type)));
                    onCreated(p);
                }, function (err) {
                    showError(err.code === 'unsupported_identity_provider' ? (err.message || UNSUPPORTED_MSG)
                                                                           : err.message);
                    select.focus();
                })
                .then(function () {
                    busy = false;
                    submit.removeAttribute('aria-disabled');
                });
        });
        return form;
    }

    function accountsCard(gen, title) {
        var body = h('div', null, loadingEl('Loading accounts…'));
        var card = h('section', { class: 'card', 'aria-labelledby': 'accounts-title' },
            h('div', { class: 'card-head' },
                h('div', null,
                    h('h2', { id: 'accounts-title' }, title),
                    h('p', null, 'The tenant\'s accounts. Your identity provider creates and manages them; ' +
                                 'each provisioning account is non-billable.'))),
            body);

        function load() {
            body.textContent = '';
            body.appendChild(loadingEl('Loading accounts…'));
            api('GET', 'accounts').then(function (data) {
                var list = (data && data.accounts) || [];
                var tbody, i, a;

                if (gen !== state.gen) {
                    return;
                }
                body.textContent = '';
                if (!list.length) {
                    body.appendChild(h('p', { class: 'empty' },
                        'No accounts yet. They appear here when your identity provider provisions them.'));
                    return;
                }
                tbody = h('tbody');
                for (i = 0; i < list.length; i++) {
                    a = list[i];
                    tbody.appendChild(h('tr', { 'data-account-id': a.id, 'data-kind': a.kind },
                        td('User name', h('div', { class: 'user-cell' },
                            h('span', { class: 'cell-main mono' }, String(a.userName || '')),
                            a.kind === 'provisioning'
                                ? h('span', { class: 'pill blue' }, 'Provisioning account') : null)),
                        td('Display name', dash(a.displayName)),
                        td('Status', h('span', { class: 'pill ' + (a.active ? 'green' : 'grey') },
                                       a.active ? 'Active' : 'Inactive')),
                        td('Billing', h('span', { class: 'pill ' + (a.billable ? 'grey' : 'amber') },
                                        a.billable ? 'Billable' : 'Non-billable'))));
                }
                body.appendChild(h('div', { class: 'table-wrap' },
                    h('table', { class: 'data stack', 'aria-labelledby': 'accounts-title' },
                        h('thead', null, h('tr', null, th('User name'), th('Display name'), th('Status'),
                                          th('Billing'))),
                        tbody)));
            }, function (err) {
                if (gen !== state.gen) {
                    return;
                }
                body.textContent = '';
                body.appendChild(errorEl(err, load));
            });
        }
        load();
        return card;
    }

    function renderProviders(gen) {
        var listBody = h('div', null, loadingEl('Loading identity providers…'));

        function load() {
            listBody.textContent = '';
            listBody.appendChild(loadingEl('Loading identity providers…'));
            api('GET', 'identity-providers').then(function (data) {
                var list = (data && data.identityProviders) || [];

                if (gen !== state.gen) {
                    return;
                }
                listBody.textContent = '';
                if (!list.length) {
                    listBody.appendChild(h('p', { class: 'empty' },
                        'No identity providers yet. Add your Okta or Microsoft Entra ID connection below.'));
                } else {
                    listBody.appendChild(providersTable(list));
                }
            }, function (err) {
                if (gen !== state.gen) {
                    return;
                }
                listBody.textContent = '';
                listBody.appendChild(errorEl(err, load));
            });
        }

        setView('Identity Providers', [
            h('div', { class: 'page-head' },
                h('h1', null, 'Identity Providers'),
                h('p', { class: 'lede' },
                    'Connect Okta or Microsoft Entra ID, then open a provider\'s Auto Provisioning Token page ' +
                    'to create the token that lets it create and manage this tenant\'s accounts over SCIM.')),
            h('p', { class: 'note', id: 'supported-note' }, icon('info'), h('span', null, SUPPORTED_NOTE)),
            h('section', { class: 'card', 'aria-labelledby': 'providers-title' },
                h('div', { class: 'card-head' },
                    h('div', null,
                        h('h2', { id: 'providers-title' }, 'Your identity providers'),
                        h('p', null, 'Use the actions menu next to a provider and select Auto Provisioning Token.'))),
                listBody),
            h('section', { class: 'card', 'aria-labelledby': 'add-provider-title' },
                h('div', { class: 'card-head' },
                    h('div', null, h('h2', { id: 'add-provider-title' }, 'Add an identity provider'))),
                h('div', { class: 'card-body' }, providerForm(function () { load(); }))),
            accountsCard(gen, 'Accounts')
        ]);
        load();
    }

    function renderAccountsPage(gen) {
        setView('Accounts', [
            h('div', { class: 'page-head' },
                h('h1', null, 'Accounts'),
                h('p', { class: 'lede' }, 'Accounts of this tenant, created by your identity providers over SCIM.')),
            accountsCard(gen, 'All accounts')
        ]);
    }

    /* ---------- Auto Provisioning Token ---------- */

    function tokensTable(tokens, onDelete) {
        var tbody = h('tbody');
        var i, t, active, trash;

        for (i = 0; i < tokens.length; i++) {
            t = tokens[i];
            active = t.status !== 'deleted';
            trash = null;
            if (active) {
                trash = h('button', {
                    type: 'button', class: 'icon-button trash', 'aria-label': 'Delete token',
                    title: 'Delete token'
                }, icon('trash'));
                trash.addEventListener('click', onDelete.bind(null, t, trash));
            }
            tbody.appendChild(h('tr', { class: active ? null : 'is-deleted', 'data-token-id': t.id,
                                        'data-status': active ? 'active' : 'deleted' },
                td('Created', dateEl(t.createdAt)),
                td('Created by', dash(t.createdBy)),
                td('Expires', dateEl(t.expiresAt)),
                td('Status', h('span', { class: 'pill ' + (active ? 'active' : 'deleted') },
                               active ? 'Active' : 'Deleted')),
                td('Last used', lastUsedEl(t)),
                td('Deleted by', dash(t.deletedBy)),
                td('Deleted at', dateEl(t.deletedAt)),
                td('Actions', trash, 'actions actions-end')));
        }
        return h('div', { class: 'table-wrap' },
            h('table', { class: 'data stack', 'aria-labelledby': 'tokens-title' },
                h('thead', null, h('tr', null, th('Created'), th('Created by'), th('Expires'), th('Status'),
                    th('Last used'), th('Deleted by'), th('Deleted at'),
                    h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
                tbody));
    }

    function confirmDelete(token, opener, onDeleted) {
        var dialog, cancel, confirm, error, warning = null, busy = false;

        function close() {
            if (dialog.open) {
                dialog.close();
            }
        }
        error = h('p', { class: 'form-error', role: 'alert', hidden: true });
        cancel = h('button', { type: 'button', class: 'btn', onclick: close }, 'Cancel');
        confirm = h('button', { type: 'button', class: 'btn danger' }, 'Yes, delete Provisioning token');
        if (recentlyUsed(token)) {
            warning = h('p', { class: 'modal-warning', id: 'delete-warning' }, icon('alert'),
                h('span', null, 'This token was used ' + lastUsedText(token) + '. Okta or Microsoft Entra ID ' +
                  'may still be using it; deleting it will stop provisioning.'));
        }
        dialog = h('dialog', {
            class: 'modal', role: 'dialog', 'aria-modal': 'true',
            'aria-labelledby': 'delete-title',
            'aria-describedby': warning ? 'delete-warning delete-desc' : 'delete-desc'
        },
            h('div', { class: 'modal-body' },
                h('span', { class: 'modal-icon' }, icon('trash')),
                h('div', null,
                    h('h2', { id: 'delete-title' }, 'Delete this provisioning token?'),
                    warning,
                    h('p', { id: 'delete-desc' },
                        'The identity provider can no longer use it: the very next request with this token is refused. ' +
                        'The token stays listed as deleted until its original expiry date. This cannot be undone.'),
                    h('dl', null,
                        h('dt', null, 'Created'), h('dd', null, dateEl(token.createdAt),
                            token.createdBy ? ' by ' + token.createdBy : ''),
                        h('dt', null, 'Expires'), h('dd', null, dateEl(token.expiresAt)),
                        h('dt', null, 'Last used'), h('dd', null, lastUsedEl(token))))),
            error,
            h('div', { class: 'modal-actions' }, cancel, confirm));

        confirm.addEventListener('click', function () {
            if (busy) {
                return;
            }
            busy = true;
            confirm.setAttribute('aria-disabled', 'true');
            error.hidden = true;
            onDeleted(token).then(function () {
                close();
            }, function (err) {
                error.textContent = '';
                append(error, [icon('alert'), h('span', null, 'Could not delete token. ' + err.message)]);
                error.hidden = false;
                busy = false;
                confirm.removeAttribute('aria-disabled');
                cancel.focus();
            });
        });
        /* keep Tab inside the dialog (showModal makes the page inert, but
         * Tab could still leave for the browser's own controls) */
        dialog.addEventListener('keydown', function (ev) {
            var items, first, last;

            if (ev.key !== 'Tab') {
                return;
            }
            items = Array.prototype.filter.call(
                dialog.querySelectorAll('button, [href], textarea, input, select, [tabindex]:not([tabindex="-1"])'),
                function (el) { return !el.disabled && el.offsetParent !== null; });
            if (!items.length) {
                return;
            }
            first = items[0];
            last = items[items.length - 1];
            if (ev.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
                ev.preventDefault();
                last.focus();
            } else if (!ev.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
                ev.preventDefault();
                first.focus();
            }
        });
        /* Escape fires "cancel" on a modal <dialog> */
        dialog.addEventListener('cancel', function (ev) {
            if (busy) {
                ev.preventDefault();
            }
        });
        dialog.addEventListener('close', function () {
            if (dialog.parentNode) {
                dialog.parentNode.removeChild(dialog);
            }
            if (opener && opener.isConnected) {
                opener.focus();
            } else {
                var fallback = document.getElementById('create-token') || document.querySelector('main h1');
                if (fallback) {
                    fallback.focus();
                }
            }
        });
        dialog.addEventListener('click', function (ev) {
            /* a click on the backdrop (outside the box) cancels */
            var r = dialog.getBoundingClientRect();

            if (!busy && ev.target === dialog && (ev.clientX < r.left || ev.clientX > r.right ||
                                                  ev.clientY < r.top || ev.clientY > r.bottom)) {
                close();
            }
        });
        document.body.appendChild(dialog);
        dialog.showModal();
        cancel.focus();
    }

    function renderTokenPage(gen, idpId) {
        var providerLine = h('div', { class: 'provider-line' }, loadingEl('Loading identity provider…'));
        var accountBody = h('div', { class: 'card-body' }, loadingEl());
        var secretSlot = h('div', { id: 'secret-slot' });
        var tokensBody = h('div', null, loadingEl('Loading tokens…'));
        var createBtn = h('button', { type: 'button', class: 'btn primary', id: 'create-token' },
            icon('plus'), 'Create new token');
        var creating = false;

        function renderAccount(acct) {
            accountBody.textContent = '';
            if (acct && acct.userName) {
                accountBody.appendChild(h('div', { class: 'kv' },
                    h('span', { class: 'kv-label', id: 'generated-username-label' }, 'Generated Administrator Username'),
                    h('div', { class: 'kv-value' },
                        h('span', { class: 'generated-username', id: 'generated-username',
                                    'aria-labelledby': 'generated-username-label generated-username' },
                          String(acct.userName)),
                        h('span', { class: 'pill amber' }, 'Non-billable'),
                        copyUserBtn(String(acct.userName)))));
                accountBody.appendChild(h('p', { class: 'muted limit-note' },
                    'Enter this username together with a token in Okta or Microsoft Entra ID.'));
            } else {
                accountBody.appendChild(h('div', { class: 'kv' },
                    h('span', { class: 'kv-label' }, 'Generated Administrator Username'),
                    h('p', { class: 'muted', id: 'no-account' },
                        'Not created yet. When you create the first token, a non-billable provisioning account ' +
                        'with a generated administrator username is created for this identity provider.')));
            }
        }

        function loadTokens() {
            return api('GET', idpPath(idpId) + '/tokens').then(function (data) {
                var tokens = (data && data.tokens) || [];

                if (gen !== state.gen) {
                    return;
                }
                renderAccount(data && data.provisioningAccount);
                tokensBody.textContent = '';
                if (!tokens.length) {
                    tokensBody.appendChild(h('p', { class: 'empty' }, 'No tokens yet. Click Create new token to create one.'));
                } else {
                    tokensBody.appendChild(tokensTable(tokens, onDelete));
                }
            }, function (err) {
                if (gen !== state.gen) {
                    return;
                }
                if (err.status === 404) {
                    setView('Identity provider not found', [
                        crumbs(),
                        h('div', { class: 'page-head' }, h('h1', null, 'Auto Provisioning Token')),
                        h('section', { class: 'card' },
                            errorEl({ message: 'This identity provider does not exist (or was removed).' }))
                    ]);
                    return;
                }
                tokensBody.textContent = '';
                tokensBody.appendChild(errorEl(err, loadTokens));
                accountBody.textContent = '';
                accountBody.appendChild(h('p', { class: 'muted' }, 'Not available.'));
            });
        }

        function onDelete(token, opener) {
            confirmDelete(token, opener, function (t) {
                return api('DELETE', idpPath(idpId) + '/tokens/' + encodeURIComponent(t.id)).then(function () {
                    toast('success', 'Token deleted', 'It no longer authenticates the identity provider.');
                    announce('Token deleted.');
                    return loadTokens();
                });
            });
        }

        createBtn.addEventListener('click', function () {
            if (creating) {
                return;
            }
            /* the previous token disappears as soon as a new one is asked for */
            discardSecret();
            creating = true;
            createBtn.setAttribute('aria-disabled', 'true');
            api('POST', idpPath(idpId) + '/tokens', {}).then(function (issued) {
                if (gen !== state.gen || !issued || typeof issued.token !== 'string') {
                    return;
                }
                showSecret(secretSlot, issued);
                issued.token = null;
                announce('Token created. You will only be able to see this token once.');
                return loadTokens();
            }, function (err) {
                toast('error', 'Could not create token.',
                      err.code === 'too_many_tokens'
                          ? 'See the notifications (bell icon, top right) for the reason.'
                          : err.message);
                refreshNotifications();
                loadTokens();
            }).then(function () {
                creating = false;
                createBtn.removeAttribute('aria-disabled');
            });
        });

        function crumbs() {
            return h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
                h('a', { href: '#/' }, icon('back', 'small'), 'Identity Providers'));
        }

        setView('Auto Provisioning Token', [
            crumbs(),
            h('div', { class: 'page-head' },
                h('h1', null, 'Auto Provisioning Token'),
                providerLine),
            h('section', { class: 'card account-card', 'aria-label': 'Provisioning account' }, accountBody),
            h('section', { class: 'card', 'aria-labelledby': 'create-title' },
                h('div', { class: 'card-head' },
                    h('div', null,
                        h('h2', { id: 'create-title' }, 'Provisioning tokens'),
                        h('p', null, 'A token lets the identity provider send SCIM data to this site. ' +
                                     'It expires one year after it is created.')),
                    createBtn),
                h('div', { class: 'card-body' },
                    h('p', { class: 'limit-note' },
                        'You can have at most two tokens per provisioning account: the second one lets you move ' +
                        'to a new token before the first one expires. Expired tokens are not listed; deleted tokens ' +
                        'stay listed until their original expiry date. Last used tells which token the identity ' +
                        'provider really uses (updated within a minute): delete the old one only once it is no ' +
                        'longer used.'))),
            secretSlot,
            h('section', { class: 'card', 'aria-labelledby': 'tokens-title' },
                h('div', { class: 'card-head' },
                    h('div', null, h('h2', { id: 'tokens-title' }, 'Tokens'))),
                tokensBody)
        ]);

        api('GET', 'identity-providers').then(function (data) {
            var list = (data && data.identityProviders) || [];
            var p = null;
            var i;

            if (gen !== state.gen) {
                return;
            }
            for (i = 0; i < list.length; i++) {
                if (list[i].id === idpId) {
                    p = list[i];
                }
            }
            providerLine.textContent = '';
            if (p) {
                append(providerLine, [
                    h('span', { class: 'provider-name', id: 'provider-name' }, String(p.name || typeLabel(p.type))),
                    typeEl(p.type),
                    h('span', null, 'added ', dateEl(p.createdAt))
                ]);
                document.title = 'Auto Provisioning Token · ' + (p.name || typeLabel(p.type)) + ' · SCIM Provisioning';
            }
        }, function () {
            if (gen === state.gen) {
                providerLine.textContent = '';
            }
        });
        loadTokens();
    }

    function renderNotFound() {
        setView('Not found', [
            h('div', { class: 'page-head' }, h('h1', null, 'Page not found')),
            h('p', null, h('a', { href: '#/' }, 'Go to Identity Providers'))
        ]);
    }

    /* ------------------------------------------------------------------ */
    /* router                                                               */

    function route() {
        var hash = window.location.hash || '#/';
        var gen = ++state.gen;
        var m, id = null;

        discardSecret();
        closeNotifications(false);
        if ((m = /^#\/idp\/([^/?#]+)$/.exec(hash))) {
            try {
                id = decodeURIComponent(m[1]);
            } catch (e) {
                id = null;
            }
        }
        $('nav-providers').removeAttribute('aria-current');
        $('nav-accounts').removeAttribute('aria-current');
        if (hash === '#/' || hash === '#') {
            $('nav-providers').setAttribute('aria-current', 'page');
            renderProviders(gen);
        } else if (hash === '#/accounts') {
            $('nav-accounts').setAttribute('aria-current', 'page');
            renderAccountsPage(gen);
        } else if (id) {
            $('nav-providers').setAttribute('aria-current', 'page');
            renderTokenPage(gen, id);
        } else {
            renderNotFound();
        }
        refreshNotifications();
    }

    function start() {
        setupHeader();
        document.addEventListener('click', function (ev) {
            if (openMenu && !openMenu.menu.contains(ev.target) && !openMenu.button.contains(ev.target)) {
                closeMenus(false);
            }
        });
        document.addEventListener('keydown', function (ev) {
            if (ev.key === 'Escape') {
                if (openMenu) {
                    closeMenus(true);
                } else {
                    closeNotifications(true);
                }
            }
        });
        window.addEventListener('hashchange', route);
        /* leaving the page (or putting it into the back/forward cache)
         * discards the token shown once */
        window.addEventListener('pagehide', discardSecret);
        document.addEventListener('visibilitychange', function () {
            if (document.visibilityState === 'visible') {
                refreshNotifications();
            }
        });
        loadMe();
        route();
        window.setInterval(function () {
            if (document.visibilityState === 'visible') {
                refreshNotifications();
            }
        }, 60000);
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
}());
