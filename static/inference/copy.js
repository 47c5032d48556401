// Adds a "Copy" button to each .copyable block. The pages work without it.
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  document.querySelectorAll(".copyable").forEach(function (block) {
    var pre = block.querySelector("pre");
    if (!pre) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(pre.textContent).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      }, function () { button.textContent = "Copy failed"; });
    });
    block.appendChild(button);
  });
})();
