(function () {
  'use strict';
  var spans = JSON.parse(document.getElementById('traced-data').textContent);
  var panel = document.getElementById('details');

  // Every piece of span data goes in through textContent, never as markup.
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function table(pairs, className) {
    var t = el('table', 'kv' + (className ? ' ' + className : ''));
    pairs.forEach(function (pair) {
      var tr = t.insertRow();
      tr.appendChild(el('th', null, pair[0]));
      tr.appendChild(el('td', null, pair[1]));
    });
    return t;
  }
  function section(title, content) {
    panel.appendChild(el('h4', null, title));
    panel.appendChild(content);
  }

  function show(i, scroll) {
    var s = spans[i];
    if (!s) return;
    document.querySelectorAll('.row.sel').forEach(function (r) { r.classList.remove('sel'); });
    var row = document.querySelector('.row[data-i="' + i + '"]');
    if (row) {
      row.classList.add('sel');
      var trace = row.closest('details');
      if (trace) trace.open = true;
      if (scroll) row.scrollIntoView({ block: 'center' });
    }
    panel.replaceChildren();
    panel.appendChild(el('h3', null, s.name));
    var sub = el('div', 'sub');
    sub.appendChild(el('span', 'status ' + s.status, s.status));
    sub.appendChild(el('span', null, s.service + ' · ' + s.kind + ' · ' + s.duration));
    panel.appendChild(sub);
    if (s.statusMessage) panel.appendChild(el('div', 'errmsg', s.statusMessage));
    section('Span', table([
      ['service', s.service],
      ['span id', s.spanId],
      ['parent id', s.parentSpanId ? s.parentSpanId + (s.parentMissing ? '  (not in the store)' : '') : '(root)'],
      ['trace id', s.traceId],
      ['kind', s.kind],
      ['start', s.start + '  (' + s.offset + ' into the trace)'],
      ['duration', s.duration],
      ['status', s.status + (s.statusMessage ? ': ' + s.statusMessage : '')]
    ], 'short'));
    if (s.input != null) section('Input', el('pre', null, s.input));
    if (s.output != null) section('Output', el('pre', null, s.output));
    if (s.events.length) {
      var events = el('div');
      s.events.forEach(function (e) {
        var box = el('div', 'event' + (e.name === 'exception' || e.level === 'ERROR' ? ' exception' : e.level === 'WARN' ? ' warn' : ''));
        var head = el('div');
        if (e.level) head.appendChild(el('span', 'level level-' + e.level.toLowerCase(), e.level));
        head.appendChild(el('b', null, e.name));
        head.appendChild(el('span', 'at', e.at));
        box.appendChild(head);
        if (e.attributes.length) box.appendChild(table(e.attributes));
        events.appendChild(box);
      });
      section('Events (' + s.events.length + ')', events);
    }
    if (s.attributes.length) section('Attributes (' + s.attributes.length + ')', table(s.attributes));
    if (s.links.length) section('Links', table(s.links));
    if (s.resource.length) section('Resource', table(s.resource));
    panel.scrollTop = 0;
    history.replaceState(null, '', '#span=' + encodeURIComponent(s.spanId));
  }

  document.addEventListener('click', function (event) {
    var row = event.target.closest('.row[data-i]');
    if (row) show(Number(row.dataset.i), false);
  });
  document.addEventListener('keydown', function (event) {
    var row = event.target.closest && event.target.closest('.row[data-i]');
    if (!row) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      show(Number(row.dataset.i), false);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      var next = event.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
      if (next && next.dataset.i !== undefined) {
        event.preventDefault();
        next.focus();
        show(Number(next.dataset.i), false);
      }
    }
  });

  // `#span=<spanId>` opens that span, so a link can point at one.
  function fromHash() {
    var match = /^#span=(.+)$/.exec(location.hash);
    if (!match) return;
    var id;
    try { id = decodeURIComponent(match[1]); } catch (e) { return; }
    for (var i = 0; i < spans.length; i++) {
      if (spans[i].spanId === id) { show(i, true); return; }
    }
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
