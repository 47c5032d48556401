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

// Search: "/" focuses the search box (unless typing somewhere already).
(function () {
  "use strict";
  var box = document.querySelector("[data-search-box]");
  if (!box) return;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var t = event.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();

// Upload: send the form with XMLHttpRequest to show progress; the plain form works without.
(function () {
  "use strict";
  if (!window.FormData || !window.DOMParser) return;

  function enhance(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = document.getElementById("upload-progress");
      var bar = box.querySelector("progress");
      var status = document.getElementById("upload-status");
      var button = document.getElementById("upload-submit");
      var xhr = new XMLHttpRequest();
      box.hidden = false;
      button.disabled = true;
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round((e.loaded / e.total) * 100);
        bar.value = pct;
        status.textContent = pct < 100
          ? "Uploading… " + pct + "% of " + (e.total / 1048576).toFixed(1) + " MB"
          : "Checking the model with onnxruntime and storing it…";
      });
      xhr.addEventListener("load", function () {
        var landed = xhr.responseURL && new URL(xhr.responseURL).pathname;
        if (xhr.status === 200 && landed && landed !== window.location.pathname) {
          window.location.assign(xhr.responseURL);  // followed the redirect to the new version
          return;
        }
        // Errors (400): show the page the server rendered, exactly as without JavaScript.
        var fresh = new DOMParser().parseFromString(xhr.responseText, "text/html").getElementById("main");
        if (!fresh) {
          status.textContent = "The upload failed (HTTP " + xhr.status + ").";
          button.disabled = false;
          return;
        }
        document.getElementById("main").replaceWith(fresh);
        var again = document.getElementById("upload-form");
        if (again) enhance(again);
        var alert = fresh.querySelector("[role=alert]");
        var invalid = fresh.querySelector("[aria-invalid=true]");
        if (invalid) invalid.focus();
        else if (alert) alert.scrollIntoView();
      });
      xhr.addEventListener("error", function () {
        status.textContent = "The upload was interrupted; check the connection and try again.";
        button.disabled = false;
      });
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      xhr.send(new FormData(form));
    });
  }

  var form = document.getElementById("upload-form");
  if (form) enhance(form);
})();
