// stsd sign-in pages: copy buttons and the expiry countdown. The pages work
// without this script; it is the only script (the CSP allows no inline
// code).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    const label = button.textContent;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Copy failed: select the text";
      }
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
  const countdown = document.getElementById("countdown");
  if (countdown) {
    const expires = Number(countdown.dataset.expires) * 1000;
    const tick = () => {
      const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      countdown.textContent = left === 0 ? "(expired)" :
        `(in ${h > 0 ? h + " h " : ""}${m} min ${String(s).padStart(2, "0")} s)`;
      if (left > 0) setTimeout(tick, 1000);
    };
    tick();
  }
});
