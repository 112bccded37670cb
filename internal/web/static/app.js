// Hookline dashboard: small enhancements; every page works without them.
// Copy buttons, and one confirmation before destructive actions
// (forms with data-confirm). Loaded as a file: the Content-Security-Policy
// allows no inline script.
document.documentElement.classList.add("js");
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b || !navigator.clipboard) return;
  navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
    var was = b.textContent;
    b.textContent = "Copied";
    setTimeout(function () { b.textContent = was; }, 1500);
  });
});
document.addEventListener("submit", function (e) {
  var f = e.target.closest("form[data-confirm]");
  if (f && !window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
});
