// The console's small behaviours, with no inline script (the pages' Content-Security-Policy forbids it).
// A form with data-confirm asks before it is sent.
document.addEventListener('submit', (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
