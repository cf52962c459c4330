/**
 * The link page's browser script, served as /link-page.js. Plain ES2020 in a string: it runs in
 * the user's browser, not in Node, and is bundled into `nya` with the rest of main.
 *
 * It speaks the `window.injectedWeb3` protocol of Polkadot wallet extensions (polkadot.js,
 * Talisman, SubWallet) directly: `injectedWeb3[name].enable(appName)` resolves to
 * `{ accounts: { get() }, signer: { signRaw({ address, data, type: 'bytes' }) } }`. That is the
 * protocol `@polkadot/extension-dapp`'s web3Enable/web3FromSource wrap; extension-dapp is not a
 * dependency of this project, and these few lines need nothing from it.
 */
export const LINK_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('nya-link-config').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var done = false;

  function setStatus(text, tone) {
    var el = $('status');
    el.textContent = text;
    el.className = 'status ' + (tone || '');
    el.setAttribute('role', tone === 'error' ? 'alert' : 'status');
  }

  function utf8Hex(text) {
    var bytes = new TextEncoder().encode(text);
    var hex = '0x';
    for (var i = 0; i < bytes.length; i++) hex += bytes[i].toString(16).padStart(2, '0');
    return hex;
  }

  function expired() { return Date.now() >= config.expiresAtMs; }

  function tick() {
    if (done) return;
    var s = Math.max(0, Math.round((config.expiresAtMs - Date.now()) / 1000));
    $('expires').textContent = s > 0 ? 'This page expires in ' + Math.floor(s / 60) + ' min ' + (s % 60) + ' s.' : 'This page has expired. Start the payout link again in Nya Miner.';
    if (s === 0) disableAll();
    else setTimeout(tick, 1000);
  }

  function disableAll() {
    var controls = document.querySelectorAll('button, input, textarea, select');
    for (var i = 0; i < controls.length; i++) controls[i].disabled = true;
  }

  async function submit(payoutAddress, signature) {
    if (expired()) { setStatus('This link request expired. Start the payout link again in Nya Miner.', 'error'); return; }
    setStatus('Sending the signature to Nya Miner…');
    var answer;
    try {
      var response = await fetch(config.submitPath, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ payoutAddress: payoutAddress, signature: signature }),
      });
      answer = await response.json();
    } catch (error) {
      setStatus('Nya Miner did not answer (' + (error && error.message ? error.message : error) + '). Is the app still running?', 'error');
      return;
    }
    if (answer.ok) {
      done = true;
      disableAll();
      $('expires').textContent = '';
      setStatus('Linked: earnings now go to ' + answer.payoutAddress + '. You can close this tab.', 'ok');
      document.body.setAttribute('data-linked', answer.payoutAddress);
      return;
    }
    setStatus(answer.error.message + (answer.retry ? '' : ' Start the payout link again in Nya Miner.'), 'error');
    if (!answer.retry) { done = true; disableAll(); }
  }

  // ------------------------------------------------------------------------------------------
  // Extension path

  var enabled = null;

  function extensionNames() {
    var injected = window.injectedWeb3 || {};
    return Object.keys(injected).filter(function (name) { return injected[name] && typeof injected[name].enable === 'function'; });
  }

  // The names the buttons were last drawn for: they are redrawn only when these change, since a
  // button replaced between a mouse press and its release loses the click.
  var rendered = null;

  function renderExtensions() {
    var names = extensionNames();
    if (names.join('\n') === rendered) return;
    rendered = names.join('\n');
    var list = $('extensions');
    list.textContent = '';
    if (names.length === 0) {
      $('no-extension').hidden = false;
      return;
    }
    $('no-extension').hidden = true;
    names.forEach(function (name) {
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Connect ' + name;
      button.setAttribute('data-extension', name);
      button.addEventListener('click', function () { connect(name); });
      list.appendChild(button);
    });
  }

  async function connect(name) {
    setStatus('Asking ' + name + ' for its accounts… (approve in the extension)');
    try {
      enabled = await window.injectedWeb3[name].enable(config.appName);
      var accounts = await enabled.accounts.get();
      var select = $('account');
      select.textContent = '';
      accounts.forEach(function (account) {
        var option = document.createElement('option');
        option.value = account.address;
        option.textContent = (account.name ? account.name + ' — ' : '') + account.address;
        select.appendChild(option);
      });
      if (config.suggestedAddress) select.value = config.suggestedAddress;
      $('account-step').hidden = accounts.length === 0;
      setStatus(accounts.length === 0 ? name + ' shares no accounts with this page. Add or allow one in the extension.' : 'Pick the account earnings should go to, then sign.', accounts.length === 0 ? 'error' : '');
    } catch (error) {
      setStatus(name + ' did not connect: ' + (error && error.message ? error.message : error), 'error');
    }
  }

  async function signWithExtension() {
    var address = $('account').value;
    if (!enabled || !address) return;
    if (!enabled.signer || typeof enabled.signer.signRaw !== 'function') {
      setStatus('This extension cannot sign raw messages. Use the paste form below.', 'error');
      return;
    }
    setStatus('Approve the signature in the extension…');
    try {
      var result = await enabled.signer.signRaw({ address: address, data: utf8Hex(config.message), type: 'bytes' });
      await submit(address, result.signature);
    } catch (error) {
      setStatus('The extension did not sign: ' + (error && error.message ? error.message : error), 'error');
    }
  }

  // ------------------------------------------------------------------------------------------
  // Paste path

  function pasteSubmit(event) {
    event.preventDefault();
    var address = $('paste-address').value.trim();
    var signature = $('paste-signature').value.trim();
    if (!/^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(address)) { setStatus('The payout address is not an SS58 address.', 'error'); return; }
    if (!/^0x[0-9a-fA-F]{128}$/.test(signature)) { setStatus('A signature is 0x followed by 128 hex digits.', 'error'); return; }
    submit(address, signature);
  }

  function copyMessage() {
    navigator.clipboard.writeText(config.message).then(
      function () { setStatus('Message copied.'); },
      function () { setStatus('Copy failed; select the message and copy it by hand.', 'error'); }
    );
  }

  $('message').textContent = config.message;
  $('mining-address').textContent = config.miningAddress;
  $('copy').addEventListener('click', copyMessage);
  $('sign').addEventListener('click', signWithExtension);
  $('paste-form').addEventListener('submit', pasteSubmit);
  if (config.suggestedAddress) $('paste-address').value = config.suggestedAddress;
  tick();
  renderExtensions();
  // Extensions inject after the page loads; look again a few times, as extension-dapp's web3Enable waits too.
  [300, 1000, 2500].forEach(function (ms) { setTimeout(function () { if (!enabled) renderExtensions(); }, ms); });
})();
`;
