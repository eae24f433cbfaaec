// Shipped with the page (a few hundred bytes): shows the playground, which stays hidden
// without JavaScript, and loads the bundle (playground.js) only when a reader opens it.
(function () {
  if (window.llmdocsPlaygroundLoader) return;
  window.llmdocsPlaygroundLoader = true;
  var queue = [];
  var requested = false;
  function start(root) {
    if (root.dataset.started) return;
    root.dataset.started = "1";
    if (window.llmdocsPlayground) return window.llmdocsPlayground.mount(root);
    queue.push(root);
    if (requested) return;
    requested = true;
    var script = document.createElement("script");
    script.src = root.dataset.base + "playground.js";
    script.onload = function () {
      queue.forEach(function (r) { window.llmdocsPlayground.mount(r); });
    };
    document.head.appendChild(script);
  }
  function init() {
    document.querySelectorAll(".llmdocs-playground[data-base]").forEach(function (root) {
      var details = root.querySelector("details");
      root.hidden = false;
      details.addEventListener("toggle", function () { if (details.open) start(root); });
      if (details.open) start(root);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
