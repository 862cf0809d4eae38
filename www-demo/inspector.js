// The SIP message inspector panel: the SDK's parser (`inspectMessage`) on pasted text.
export function setupInspector(inspectMessage) {
  const input = document.getElementById('inspect-in');
  const out = document.getElementById('inspect-out');
  const go = document.getElementById('inspect-go');
  const run = () => {
    // a message pasted from a log has bare LF line ends; SIP wants CRLF
    const r = inspectMessage(input.value.replace(/\r?\n/g, '\r\n'));
    out.textContent = r;
    out.dataset.bad = String(r.startsWith('MALFORMED'));
  };
  go.disabled = false;
  go.addEventListener('click', run);
  run();
}
