// Live encoding and segment count under every message, with one-click GSM-7 replacement.
const token = document.querySelector('input[name=csrf_token]').value;
async function count(area) {
  const r = await fetch(document.getElementById('flows-form').dataset.segmentsUrl, {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}, body: JSON.stringify({text: area.value,
      program: document.querySelector("input[name='program.name']").value,
      phone: document.querySelector("input[name='program.phone']").value})});
  const info = await r.json();
  let out = area.nextElementSibling;
  if (!out || !out.classList.contains('count')) { out = document.createElement('span'); out.className = 'count'; area.after(out); }
  out.textContent = `as sent: ${info.encoding}, ${info.units} characters, ${info.segments} segment(s)`;
  out.classList.toggle('warn', info.encoding !== 'GSM-7' || info.segments > 3);
  if (info.non_gsm.length) {
    const fix = document.createElement('button'); fix.type = 'button'; fix.className = 'link';
    fix.textContent = ` Replace non-GSM characters (${info.non_gsm.join(' ')})`;
    fix.onclick = () => { area.value = info.gsm; count(area); };
    out.append(fix);
  }
}
document.querySelectorAll('textarea.sms').forEach(a => { count(a); a.addEventListener('input', () => count(a)); });
