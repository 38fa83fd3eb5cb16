// Local full-text search over window.SEARCH_INDEX (written by scripts/build_site.py): no server, no CDN.
(function () {
  function esc(s) { return s.replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function terms(q) { return q.toLowerCase().split(/[^\w.@-]+/).filter(function (t) { return t.length > 1; }); }
  function count(hay, t) { var n = 0, i = hay.indexOf(t); while (i >= 0) { n++; i = hay.indexOf(t, i + t.length); } return n; }
  function snippet(text, ts) {
    var low = text.toLowerCase(), at = -1;
    ts.forEach(function (t) { var i = low.indexOf(t); if (i >= 0 && (at < 0 || i < at)) at = i; });
    var start = Math.max(0, at - 80), s = (start ? '… ' : '') + text.slice(start, start + 260) + (text.length > start + 260 ? ' …' : '');
    s = esc(s);
    ts.forEach(function (t) { s = s.replace(new RegExp('(' + t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + ')', 'gi'), '<mark>$1</mark>'); });
    return s;
  }
  // Ranking: a section titled exactly what was typed (a name: `DotProductBias`, `Recommender.fit`) comes first, the API
  // reference's entry before a lesson's; then sections by how often the words occur, in their title five times over.
  function search(q) {
    var ts = terms(q), out = [], whole = q.trim().toLowerCase();
    if (!ts.length) return out;
    (window.SEARCH_INDEX || []).forEach(function (e, i) {
      var title = e.t.toLowerCase(), text = e.x.toLowerCase(), score = 0, all = true;
      ts.forEach(function (t) {
        var n = 5 * count(title, t) + Math.min(count(text, t), 20);
        if (!n) all = false;
        score += n;
      });
      var exact = title === whole ? (e.u.indexOf('api/') === 0 ? 2 : 1) : 0;
      if (score && all) out.push({e: e, score: score, exact: exact, i: i});
    });
    out.sort(function (a, b) { return b.exact - a.exact || b.score - a.score || a.i - b.i; });
    return out.slice(0, 40);
  }
  function show(q) {
    var list = document.getElementById('search-results'), n = document.getElementById('search-count');
    if (!list) return;
    var res = search(q), ts = terms(q);
    n.textContent = q ? (res.length ? res.length + ' section' + (res.length > 1 ? 's' : '') + ' match "' + q + '"' : 'Nothing matches "' + q + '"') : '';
    list.innerHTML = res.map(function (r) {
      return '<li><a href="' + esc(r.e.u) + '">' + esc(r.e.t || r.e.p) + '</a> <span class="where">' + esc(r.e.p) +
        '</span><div class="snippet">' + snippet(r.e.x, ts) + '</div></li>';
    }).join('');
  }
  document.addEventListener('DOMContentLoaded', function () {
    var input = document.getElementById('search-input');
    var q = new URLSearchParams(window.location.search).get('q') || '';
    if (input) {
      input.value = q;
      input.addEventListener('input', function () { show(input.value); });
    }
    show(q);
  });
  window.courseSearch = search;
})();
