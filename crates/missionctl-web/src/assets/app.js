// The missionctl dashboard: one page, five views chosen by the address's hash, each drawn from
// the JSON API and drawn again when the server says (server-sent events) that what it shows
// changed. No framework, no build step, nothing loaded from elsewhere.
'use strict';
(function () {
  const LANES = ['planned', 'claimed', 'in_progress', 'for_review', 'in_review', 'approved', 'done', 'blocked', 'canceled'];
  const token = new URLSearchParams(location.search).get('token') || '';
  const main = document.getElementById('main');
  const live = document.getElementById('live');
  // For tests and benchmarks: when the page was loaded, how many live updates it drew.
  const state = (window.__missionctl = { loadedAt: Date.now(), updates: 0, lastUpdate: 0 });
  let view = { kind: 'missions' };
  let drawing = 0;

  function api(path) {
    const sep = path.includes('?') ? '&' : '?';
    return fetch(path + sep + 'token=' + encodeURIComponent(token), { cache: 'no-store' })
      .then((response) => response.json());
  }

  // Builds an element; strings become text nodes (never HTML).
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function age(at) {
    if (!at) return '';
    const seconds = Math.max(0, (Date.now() - Date.parse(at)) / 1000);
    if (!isFinite(seconds)) return '';
    if (seconds < 60) return Math.floor(seconds) + 's';
    if (seconds < 3600) return Math.floor(seconds / 60) + 'm';
    if (seconds < 86400) return Math.floor(seconds / 3600) + 'h';
    return Math.floor(seconds / 86400) + 'd';
  }

  function link(hash, text) { return h('a', { href: hash }, text); }
  function mission(slug) { return '#/m/' + encodeURIComponent(slug); }
  function failure(answer) {
    const error = answer && answer.error;
    return h('p', { class: 'error' }, error ? error.code + ': ' + error.message : 'The dashboard did not answer');
  }

  function route() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    if (parts[0] === 'm' && parts[1]) {
      if (parts[2] === 'wp' && parts[3]) view = { kind: 'wp', slug: parts[1], wp: parts[3] };
      else if (parts[2] === 'context') view = { kind: 'context', slug: parts[1] };
      else if (parts[2] === 'history') view = { kind: 'history', slug: parts[1] };
      else view = { kind: 'board', slug: parts[1] };
    } else if (parts[0] === 'doctor') {
      view = { kind: 'doctor' };
    } else {
      view = { kind: 'missions' };
    }
    draw(false);
  }

  // Draws the current view; a newer draw wins over one still waiting for its data.
  async function draw(update) {
    const mine = ++drawing;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    let nodes;
    try {
      nodes = await VIEWS[view.kind](view);
    } catch (error) {
      nodes = [h('p', { class: 'error' }, String(error))];
    }
    if (mine !== drawing) return;
    main.replaceChildren(...nodes.filter((node) => node));
    if (focused) {
      const again = main.querySelector('[data-key="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    } else if (!update) {
      const first = main.querySelector('[data-key]');
      if (first) first.focus(); else main.focus();
    }
    if (update) { state.updates += 1; state.lastUpdate = Date.now(); }
  }

  const VIEWS = {
    async missions() {
      const answer = await api('/api/missions');
      if (!answer.ok) return [failure(answer)];
      const missions = answer.data.missions;
      const filter = h('input', { type: 'search', id: 'filter', placeholder: 'Filter missions ( / )', 'aria-label': 'Filter missions' });
      const rows = missions.map((m) => {
        const total = m.work_packages || 0;
        const counts = LANES.filter((lane) => m.summary && m.summary[lane]).map((lane) => lane + ' ' + m.summary[lane]).join(', ');
        return h('tr', { class: 'row', dataset: { slug: m.mission_slug } },
          h('td', {}, h('a', { href: mission(m.mission_slug), dataset: { key: 'm:' + m.mission_slug } }, m.mission_slug)),
          h('td', {}, m.topology || ''),
          h('td', {}, h('progress', { max: Math.max(total, 1), value: m.done || 0 }), ' ', (m.done || 0) + '/' + total),
          h('td', {}, m.error ? h('span', { class: 'error' }, m.error.code) : counts),
          h('td', { class: 'num' }, m.event_count),
          h('td', {}, m.read_surface || ''));
      });
      const body = h('tbody', {}, rows);
      filter.addEventListener('input', () => {
        const text = filter.value.toLowerCase();
        for (const row of body.children) row.hidden = !row.dataset.slug.toLowerCase().includes(text);
      });
      return [
        h('h1', {}, 'Missions ', h('small', {}, missions.length + ' · changes noticed by ' + answer.data.watch)),
        filter,
        h('table', {}, h('thead', {}, h('tr', {}, ['Mission', 'Topology', 'Progress', 'Lanes', 'Events', 'Status read from'].map((t) => h('th', {}, t)))), body),
      ];
    },

    async board(v) {
      const answer = await api('/api/missions/' + encodeURIComponent(v.slug) + '/board');
      if (!answer.ok) return [crumbs(v), failure(answer)];
      const board = answer.data;
      const columns = LANES.map((lane) => {
        const cards = board.work_packages.filter((wp) => wp.lane === lane).map((wp) => card(v.slug, wp));
        return h('section', { class: 'lane', dataset: { lane }, 'aria-label': lane },
          h('h2', {}, h('span', {}, lane.replace('_', ' ')), h('span', { class: 'count' }, cards.length || '')), cards);
      });
      const logOnly = (board.log_only_work_packages || []).map((wp) => wp.wp_id + ' (' + wp.lane + ')');
      return [
        h('h1', {}, board.mission_dir, ' ', h('small', {}, board.topology + ' · ' + board.done_count + '/' + board.total_wps
          + ' done · ' + board.progress_percentage + '% ready · status read from the ' + board.read_surface + ' checkout')),
        crumbs(v),
        h('div', { class: 'board', id: 'board' }, columns),
        logOnly.length ? h('p', { class: 'note' }, 'In the log but without a task file: ' + logOnly.join(', ')) : null,
      ];
    },

    async wp(v) {
      const answer = await api('/api/missions/' + encodeURIComponent(v.slug) + '/history?wp=' + encodeURIComponent(v.wp));
      if (!answer.ok) return [crumbs(v), failure(answer)];
      return [h('h1', {}, v.wp, ' ', h('small', {}, v.slug)), crumbs(v), historyTable(answer.data.events, false)];
    },

    async history(v) {
      const answer = await api('/api/missions/' + encodeURIComponent(v.slug) + '/history');
      if (!answer.ok) return [crumbs(v), failure(answer)];
      return [h('h1', {}, 'History ', h('small', {}, v.slug)), crumbs(v), historyTable(answer.data.events, true)];
    },

    async context(v) {
      const answer = await api('/api/missions/' + encodeURIComponent(v.slug) + '/context');
      if (!answer.ok) return [crumbs(v), failure(answer)];
      const c = answer.data;
      const rows = [
        ['mission id', c.mission_id + ' (mid8 ' + c.mid8 + ')'],
        ['topology', c.topology + (c.topology_stored ? ' (stored)' : ' (derived)') + (c.flattened ? ', flattened' : '')],
        ['target branch', c.target_branch],
        ['coordination branch', c.coordination_branch || '—'],
        ['status commits to', c.destination_ref],
        ['primary checkout', c.primary_root],
        ['planning dir', c.planning_dir],
        ['coordination worktree', c.coordination_worktree ? c.coordination_worktree + (c.probe ? ' (' + c.probe + ')' : '') : '—'],
        ['read surface', c.read_surface + ' (' + c.read_dir + ')'],
        ['write dir', c.write_dir],
      ];
      return [
        h('h1', {}, 'Execution context ', h('small', {}, v.slug)), crumbs(v),
        h('dl', { class: 'kv' }, rows.map(([k, value]) => [h('dt', {}, k), h('dd', { class: 'mono' }, String(value))])),
        h('h2', {}, 'Fragments'),
        h('pre', {}, JSON.stringify(c.context, null, 2)),
      ];
    },

    async doctor() {
      const answer = await api('/api/doctor');
      if (!answer.ok) return [failure(answer)];
      const findings = answer.data.findings;
      const rows = findings.map((f, i) => h('tr', { class: 'row' },
        h('td', { class: 'sev-' + f.severity }, f.severity),
        h('td', {}, h('a', { href: mission(f.mission_slug), dataset: { key: 'f:' + i } }, f.mission_slug)),
        h('td', { class: 'mono' }, f.code), h('td', {}, f.message), h('td', {}, h('code', {}, f.fix))));
      return [
        h('h1', {}, 'Doctor ', h('small', {}, answer.data.missions_checked + ' missions checked · ' + findings.length + ' findings')),
        findings.length
          ? h('table', {}, h('thead', {}, h('tr', {}, ['Severity', 'Mission', 'Code', 'Finding', 'Fix'].map((t) => h('th', {}, t)))), h('tbody', {}, rows))
          : h('p', { class: 'note' }, 'Nothing to report.'),
      ];
    },
  };

  function crumbs(v) {
    return h('p', { class: 'crumbs' },
      link('#/', '← Missions'), link(mission(v.slug), 'Board'),
      link(mission(v.slug) + '/history', 'History'), link(mission(v.slug) + '/context', 'Context'));
  }

  function card(slug, wp) {
    const id = wp.id || wp.file;
    const review = wp.review && wp.review.verdict;
    const badge = review ? h('span', { class: 'badge ' + (['approved', 'changes_requested', 'rejected'].includes(review) ? review : 'other') },
      'review: ' + review.replace('_', ' ') + (wp.review.reviewer ? ' by ' + wp.review.reviewer : '')) : null;
    return h('a', {
      class: 'card', href: mission(slug) + '/wp/' + encodeURIComponent(id),
      dataset: { wp: id, key: 'wp:' + id }, title: wp.last_transition_at || '',
    },
    h('span', { class: 'head' }, h('span', {}, id), h('span', { class: 'age', dataset: { at: wp.last_transition_at || '' } }, age(wp.last_transition_at))),
    wp.title ? h('p', { class: 'title' }, wp.title) : null,
    wp.actor ? h('p', { class: 'who' }, 'by ' + wp.actor + (wp.agent && wp.agent !== wp.actor ? ' (' + wp.agent + ')' : '')) : null,
    wp.dependencies && wp.dependencies.length ? h('p', { class: 'deps' }, 'after ' + wp.dependencies.join(', ')) : null,
    badge ? h('p', {}, badge) : null,
    wp._stall_label ? h('p', {}, h('span', { class: 'badge other' }, wp._stall_label)) : null);
  }

  function historyTable(events, withWp) {
    if (!events.length) return h('p', { class: 'note' }, 'No events.');
    const rows = events.map((e, i) => h('tr', { class: 'row' },
      h('td', { class: 'mono', tabindex: 0, dataset: { key: 'e:' + i } }, e.at),
      withWp ? h('td', {}, e.wp_id) : null,
      h('td', {}, e.kind === 'transition' ? e.from_lane + ' → ' + e.to_lane + (e.force ? ' (forced)' : '') : 'note ' + JSON.stringify(e.delta)),
      h('td', {}, e.actor), h('td', {}, e.reason || '')));
    const head = ['When'].concat(withWp ? ['Work package'] : [], ['What', 'Who', 'Why']);
    return h('table', {}, h('thead', {}, h('tr', {}, head.map((t) => h('th', {}, t)))), h('tbody', {}, rows));
  }

  // Keyboard: move between cards (lanes left and right, cards up and down), rows, and views.
  function moveFocus(dx, dy) {
    const active = document.activeElement;
    if (view.kind === 'board') {
      const lanes = [...main.querySelectorAll('.lane')];
      let lane = active && active.closest ? active.closest('.lane') : null;
      let li = lane ? lanes.indexOf(lane) : -1;
      let ci = lane ? [...lane.querySelectorAll('.card')].indexOf(active) : -1;
      if (li < 0) { const first = main.querySelector('.card'); if (first) first.focus(); return; }
      if (dx) {
        for (let next = li + dx; next >= 0 && next < lanes.length; next += dx) {
          const cards = lanes[next].querySelectorAll('.card');
          if (cards.length) { cards[Math.min(ci, cards.length - 1)].focus(); return; }
        }
      } else {
        const cards = lane.querySelectorAll('.card');
        const target = cards[ci + dy];
        if (target) target.focus();
      }
      return;
    }
    const keys = [...main.querySelectorAll('[data-key]')].filter((node) => !node.closest('tr') || !node.closest('tr').hidden);
    const at = keys.indexOf(active);
    const target = keys[at < 0 ? 0 : at + (dy || dx)];
    if (target) target.focus();
  }

  document.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const typing = event.target && (event.target.tagName === 'INPUT' || event.target.tagName === 'TEXTAREA');
    if (typing) { if (event.key === 'Escape') event.target.blur(); return; }
    const moves = { ArrowLeft: [-1, 0], h: [-1, 0], ArrowRight: [1, 0], l: [1, 0], ArrowUp: [0, -1], k: [0, -1], ArrowDown: [0, 1], j: [0, 1] };
    if (moves[event.key]) { event.preventDefault(); moveFocus(...moves[event.key]); return; }
    const slug = view.slug;
    switch (event.key) {
      case 'g': location.hash = '#/'; break;
      case 'd': location.hash = '#/doctor'; break;
      case 'c': if (slug) location.hash = mission(slug) + '/context'; break;
      case 'y': if (slug) location.hash = mission(slug) + '/history'; break;
      case 'b': if (slug) location.hash = mission(slug); break;
      case 'Escape': location.hash = slug && view.kind !== 'board' ? mission(slug) : '#/'; break;
      case '/': { const filter = document.getElementById('filter'); if (filter) { event.preventDefault(); filter.focus(); } break; }
      default: return;
    }
  });

  // Live: the server names the missions whose views changed; draw again if this view shows one.
  function connect() {
    const events = new EventSource('/api/events?token=' + encodeURIComponent(token));
    events.addEventListener('hello', () => { live.textContent = 'live'; live.className = 'live on'; });
    events.addEventListener('change', (message) => {
      const update = JSON.parse(message.data);
      const shows = view.kind === 'missions' || view.kind === 'doctor'
        || update.missions_changed || update.missions.includes(view.slug);
      if (shows) draw(true);
    });
    events.onerror = () => { live.textContent = 'reconnecting…'; live.className = 'live off'; };
  }

  // Ages move on by themselves.
  setInterval(() => {
    for (const node of main.querySelectorAll('.age[data-at]')) node.textContent = age(node.dataset.at);
  }, 30000);

  window.addEventListener('hashchange', route);
  route();
  connect();
})();
