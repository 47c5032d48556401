// Small enhancements; every page works without this file.
(function () {
  "use strict";

  // JSON tree: expand / collapse all.
  document.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
  document.querySelectorAll("[data-tree]").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("data-tree") === "expand";
      document.querySelectorAll("#jtree details").forEach(function (d) { d.open = open; });
    });
  });

  // Workbench: Ctrl/Cmd+Enter runs the statement; examples fill the editor first.
  var form = document.getElementById("query-form");
  if (form) {
    var editor = form.querySelector("textarea");
    editor.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    document.querySelectorAll("[data-statement]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        editor.value = link.getAttribute("data-statement");
        form.requestSubmit();
      });
    });
  }
})();
