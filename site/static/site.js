// Fold each exercise solution of a lesson page under "Show a solution" (readers try first).
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('.jp-Cell.celltag_solution').forEach(function (cell) {
    var d = document.createElement('details');
    d.className = 'solution';
    var s = document.createElement('summary');
    s.textContent = 'Show a solution';
    d.appendChild(s);
    cell.parentNode.insertBefore(d, cell);
    d.appendChild(cell);
  });
});
