// The live counter of the flows editor and the reply box: under every text, its encoding and segments
// as it will be sent (placeholders filled, Spanish plain when the program says so), with one-click GSM-7
// replacement.
const form = document.querySelector('[data-segments-url]');
const token = document.querySelector('input[name=csrf_token]').value;
const field = (name) => (document.querySelector(`[name='${name}']`) || {}).value || '';

async function count(area) {
  const response = await fetch(form.dataset.segmentsUrl, {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
    body: JSON.stringify({text: area.value, language: area.dataset.language || 'en',
                          plain_spanish: form.dataset.plainSpanish !== 'false',
                          program: field('program.name'), phone: field('program.phone')})});
  const info = await response.json();
  let out = area.nextElementSibling;
  if (!out || !out.classList.contains('count')) {
    out = document.createElement('span'); out.className = 'count'; out.setAttribute('aria-live', 'polite');
    area.after(out);
  }
  out.textContent = `as sent: ${info.encoding}, ${info.units} characters, ${info.segments} segment(s)`;
  out.classList.toggle('warn', info.encoding !== 'GSM-7' || info.segments > 3);
  if (info.non_gsm.length) {
    const fix = document.createElement('button'); fix.type = 'button'; fix.className = 'link';
    fix.textContent = ` Replace non-GSM characters (${info.non_gsm.join(' ')})`;
    fix.addEventListener('click', () => { area.value = info.gsm; count(area); });
    out.append(fix);
  }
}
if (form) document.querySelectorAll('textarea.sms').forEach((area) => {
  count(area);
  area.addEventListener('input', () => count(area));
});
