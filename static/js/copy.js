// Copy buttons: <button data-copy="#element-id">. Falls back to selecting the text,
// so the clerk can press Ctrl+C when the browser refuses clipboard access.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  const status = document.getElementById(button.getAttribute("aria-describedby"));
  const text = source.textContent;
  try {
    await navigator.clipboard.writeText(text);
    if (status) status.textContent = button.dataset.copied;
  } catch (error) {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    if (status) status.textContent = button.dataset.selected;
  }
});
