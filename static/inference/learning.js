// "New online model": list the chosen CSV's columns as choices for the label column.
(function () {
  "use strict";
  const form = document.getElementById("learning-form");
  if (!form) return;
  const file = form.querySelector("input[type=file][name=file]");
  const label = form.querySelector("input[name=label]");
  const list = document.getElementById("csv-columns");
  const note = document.getElementById("csv-columns-note");
  if (!file || !label || !list) return;

  function columns(text) {
    const line = text.split(/\r?\n/, 1)[0] || "";
    return line.split(",").map((c) => c.trim().replace(/^"|"$/g, "")).filter((c) => c);
  }

  file.addEventListener("change", () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    chosen.slice(0, 64 * 1024).text().then((text) => {
      const names = columns(text);
      list.replaceChildren(...names.map((n) => Object.assign(document.createElement("option"), { value: n })));
      note.textContent = names.length ? "Columns: " + names.join(", ") + "." : "";
      if (!label.value && names.length) label.value = names[names.length - 1];
    });
  });
})();
