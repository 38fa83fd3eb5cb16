// The site's few behaviours. Everything works without this script, only less conveniently.
document.addEventListener('DOMContentLoaded', function () {
  // Fold each exercise solution of a lesson page under "Show a solution" (readers try first).
  document.querySelectorAll('.jp-Cell.celltag_solution').forEach(function (cell) {
    var d = document.createElement('details');
    d.className = 'solution';
    var s = document.createElement('summary');
    s.textContent = 'Show a solution';
    d.appendChild(s);
    cell.parentNode.insertBefore(d, cell);
    d.appendChild(cell);
  });

  // The lesson list: always shown beside the page on wide screens; on narrow ones the header's button opens it.
  var toggle = document.querySelector('.nav-toggle');
  if (toggle) toggle.addEventListener('click', function () {
    var open = document.body.classList.toggle('nav-open');
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  });

  // "On this page": unfolded in its side column on wide screens, folded at the top of the page on narrow ones.
  var toc = document.querySelector('.page-toc');
  if (toc && window.matchMedia('(min-width: 1100px)').matches) toc.open = true;
  if (toc) toc.addEventListener('click', function (e) {       // on a narrow screen, fold it again once a heading is chosen
    if (e.target.closest('a') && !window.matchMedia('(min-width: 1100px)').matches) toc.open = false;
  });

  // Headings an anchor jumps to land below the sticky header, whatever its height (it wraps on small screens).
  var header = document.querySelector('.site-header');
  function headerHeight() {
    if (header) document.documentElement.style.setProperty('--header-h', header.getBoundingClientRect().height + 'px');
  }
  headerHeight();
  window.addEventListener('resize', headerHeight);
});

// Typeset math moves the text below it: once MathJax is done, go back to the heading the address names.
window.addEventListener('load', function () {
  if (!location.hash || !window.MathJax || !MathJax.startup || !MathJax.startup.promise) return;
  MathJax.startup.promise.then(function () {
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) target.scrollIntoView();
  });
});
