// Forms with data-confirm="question" ask before they are sent (the CSP forbids onsubmit=).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
