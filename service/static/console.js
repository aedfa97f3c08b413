// The console's small behaviours, with no inline script (the pages' Content-Security-Policy forbids it).
// A form, or the button that sends it, with data-confirm asks before it is sent.
document.addEventListener('submit', (event) => {
  const button = event.submitter;
  const question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
