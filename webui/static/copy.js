// Copy buttons, show/hide of passphrases and the generate button's warning
// (zk.js adds the zero-knowledge mode where it applies). Every page works
// without it: the copy buttons stay hidden and the text can be selected by
// hand; the generate hint says that a typed secret is not shared.
(function () {
  "use strict";
  function select(el) {
    if (typeof el.select === "function") {
      el.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  function fallback(el, done) {
    select(el);
    try {
      if (document.execCommand("copy")) {
        done();
      }
    } catch (e) {
      // Nothing more to try: the text stays selected for the reader.
    }
  }
  // Generating a password discards a typed secret: the first press says
  // so, the second generates.
  var gen = document.getElementById("generate");
  var secret = document.getElementById("secret");
  var warning = document.getElementById("generate-warning");
  if (gen && secret && warning) {
    gen.addEventListener("click", function (ev) {
      if (secret.value.trim() === "" || !warning.hidden) {
        return;
      }
      ev.preventDefault();
      warning.hidden = false;
      gen.textContent = gen.getAttribute("data-confirm");
    });
  }
  // wire sets up the buttons within root: the whole page at first, and
  // the part of it that zk.js replaces with the server's answer after a
  // reveal (window.OnetimeCopy).
  function wire(root) {
    // Show/hide buttons of passphrase fields: a pressed button shows the
    // passphrase as text, so that a typo can be seen before it locks the
    // secret away.
    Array.prototype.forEach.call(root.querySelectorAll("button[data-toggle]"), function (btn) {
      var input = document.getElementById(btn.getAttribute("data-toggle"));
      if (!input) {
        return;
      }
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        btn.setAttribute("aria-pressed", show ? "true" : "false");
        input.focus();
      });
    });
    var buttons = root.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (btn) {
      var target = document.getElementById(btn.getAttribute("data-copy"));
      var status = document.getElementById(btn.getAttribute("data-status"));
      if (!target) {
        return;
      }
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var text = target.tagName === "INPUT" || target.tagName === "TEXTAREA" ? target.value : target.textContent;
        // A value with control characters shows them as marks: its real
        // characters are in data-raw, in base64.
        var raw = target.getAttribute("data-raw");
        if (raw !== null && window.TextDecoder) {
          text = new TextDecoder().decode(Uint8Array.from(atob(raw), function (c) { return c.charCodeAt(0); }));
        }
        var done = function () {
          if (status) {
            status.textContent = btn.getAttribute("data-copied");
          }
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () {
            fallback(target, done);
          });
        } else {
          fallback(target, done);
        }
      });
    });
  }
  wire(document);
  window.OnetimeCopy = wire;
})();
