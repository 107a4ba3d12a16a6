// Zero-knowledge links in the pages (docs/zero-knowledge.md, format zk1).
//
// Sharing: the value is sealed here with WebCrypto under a fresh key that
// travels only in the link's fragment (#...), which browsers never send to
// a server. The form posts the ciphertext and the verifiers of the proofs;
// the plaintext and the passphrase are cleared and never posted. The post
// carries the fragment on its action, so the redirect to the receipt keeps
// it: the receipt page then holds the whole link for this tab only.
//
// Revealing: the confirmation page reads the key from its fragment, derives
// the proofs (the passphrase is stretched here, with PBKDF2), posts them,
// and opens the answer here. A visit without the fragment (a link scanner,
// a link cut short) can consume nothing: it has no proof.
//
// Without JavaScript, or where WebCrypto is missing (a page served over
// plain HTTP to another host is no secure context), the pages work in the
// server-side mode and say so. The functions of the format are exposed as
// window.OnetimeZK for the tests, which check them against
// zk/testdata/vectors.json.
(function () {
  "use strict";

  var PREFIX = "zk1.";
  var KEY_SIZE = 32;
  var NONCE_SIZE = 12;
  var TAG_SIZE = 16;
  var ITERATIONS = 600000;
  var INFO_KEY_PROOF = "onetime zk1 key proof";
  var INFO_PASSPHRASE_PROOF = "onetime zk1 passphrase proof";
  var INFO_ENCRYPTION = "onetime zk1 encryption";
  var ADDITIONAL_DATA = "onetime zk1";
  // The generator's sets, as the server's (keys.go): no look-alikes.
  var SETS = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghjkmnpqrstuvwxyz", "23456789", "!#$%&*+-=?@^_"];
  // sessionStorage keys: the link's key of a receipt, and a password
  // generated here on its way to its receipt page.
  var LINK_KEY = "onetime.zk.link.";
  var GENERATED_KEY = "onetime.zk.generated.";

  var utf8 = new TextEncoder();
  var crypto = window.crypto;
  var subtle = crypto && crypto.subtle;

  // available reports whether this browser can work in the mode here.
  function available() {
    return !!(window.isSecureContext && subtle && crypto.getRandomValues && window.TextDecoder &&
      window.fetch && window.DOMParser && String.prototype.normalize);
  }

  // encode writes bytes as unpadded base64url (RFC 4648 §5).
  function encode(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // decode reads unpadded base64url strictly (canonical text only), or
  // returns null.
  function decode(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      return null;
    }
    var bin;
    try {
      bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    } catch (e) {
      return null;
    }
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return encode(out) === text ? out : null;
  }

  // parseKey reads a link's key from its fragment (without '#'): 43
  // characters of canonical unpadded base64url, or null.
  function parseKey(fragment) {
    if (typeof fragment !== "string" || fragment.length !== 43) {
      return null;
    }
    var k = decode(fragment);
    return k && k.length === KEY_SIZE ? k : null;
  }

  function newKey() {
    return crypto.getRandomValues(new Uint8Array(KEY_SIZE));
  }

  function hkdf(material, info) {
    return subtle.importKey("raw", material, "HKDF", false, ["deriveBits"]).then(function (k) {
      return subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8.encode(info) }, k, 8 * KEY_SIZE);
    }).then(function (bits) { return new Uint8Array(bits); });
  }

  function sha256(bytes) {
    return subtle.digest("SHA-256", bytes).then(function (h) { return new Uint8Array(h); });
  }

  function pbkdf2(passphrase, salt) {
    return subtle.importKey("raw", utf8.encode(passphrase.normalize("NFC")), "PBKDF2", false, ["deriveBits"]).then(function (k) {
      return subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: ITERATIONS }, k, 8 * KEY_SIZE);
    }).then(function (bits) { return new Uint8Array(bits); });
  }

  // derive derives what a key and a passphrase ("" for none) give: the
  // proofs, their verifiers (all unpadded base64url; the passphrase's
  // null without one), and the AES-GCM key that seals and opens the value.
  async function derive(key, passphrase) {
    var keyProof = await hkdf(key, INFO_KEY_PROOF);
    var material = key;
    var passProof = null;
    if (passphrase) {
      var p = await pbkdf2(passphrase, key);
      material = new Uint8Array(2 * KEY_SIZE);
      material.set(key);
      material.set(p, KEY_SIZE);
      passProof = await hkdf(material, INFO_PASSPHRASE_PROOF);
    }
    var enc = await hkdf(material, INFO_ENCRYPTION);
    return {
      keyProof: encode(keyProof),
      passphraseProof: passProof && encode(passProof),
      keyVerifier: encode(await sha256(keyProof)),
      passphraseVerifier: passProof && encode(await sha256(passProof)),
      aead: await subtle.importKey("raw", enc, "AES-GCM", false, ["encrypt", "decrypt"])
    };
  }

  function gcm(nonce) {
    return { name: "AES-GCM", iv: nonce, additionalData: utf8.encode(ADDITIONAL_DATA), tagLength: 8 * TAG_SIZE };
  }

  // sealWith seals value (bytes) under d with the given 12-byte nonce:
  // "zk1." and the unpadded base64url of nonce, ciphertext and tag.
  async function sealWith(d, nonce, value) {
    var ct = new Uint8Array(await subtle.encrypt(gcm(nonce), d.aead, value));
    var all = new Uint8Array(NONCE_SIZE + ct.length);
    all.set(nonce);
    all.set(ct, NONCE_SIZE);
    return PREFIX + encode(all);
  }

  // seal seals value under d with a random nonce.
  function seal(d, value) {
    return sealWith(d, crypto.getRandomValues(new Uint8Array(NONCE_SIZE)), value);
  }

  // open opens a value sealed under d, or rejects.
  async function open(d, sealed) {
    var raw = typeof sealed === "string" && sealed.indexOf(PREFIX) === 0 ? decode(sealed.slice(PREFIX.length)) : null;
    if (!raw || raw.length < NONCE_SIZE + TAG_SIZE) {
      throw new Error("zk1: not a sealed value");
    }
    return new Uint8Array(await subtle.decrypt(gcm(raw.subarray(0, NONCE_SIZE)), d.aead, raw.subarray(NONCE_SIZE)));
  }

  // randIndex returns a uniform random integer in [0, n), n <= 256, as the
  // server's generator draws it.
  function randIndex(n) {
    var limit = 256 - 256 % n;
    var b = new Uint8Array(1);
    for (;;) {
      crypto.getRandomValues(b);
      if (b[0] < limit) {
        return b[0] % n;
      }
    }
  }

  // password makes a password as the server's generator does: at least
  // one character of each set, the rest from all of them, shuffled.
  function password(length) {
    var all = SETS.join("");
    var p = [];
    for (var i = 0; i < SETS.length; i++) {
      p.push(SETS[i][randIndex(SETS[i].length)]);
    }
    while (p.length < length) {
      p.push(all[randIndex(all.length)]);
    }
    for (var j = p.length - 1; j > 0; j--) {
      var r = randIndex(j + 1);
      var t = p[j];
      p[j] = p[r];
      p[r] = t;
    }
    return p.join("");
  }

  window.OnetimeZK = Object.freeze({
    available: available, encode: encode, decode: decode, parseKey: parseKey, newKey: newKey,
    derive: derive, seal: seal, sealWith: sealWith, open: open,
    password: password, ITERATIONS: ITERATIONS
  });

  // --- The pages ---

  function byId(id, root) {
    return (root || document).querySelector("#" + id);
  }

  function show(el, on) {
    if (el) {
      el.hidden = !on;
    }
  }

  function storage() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null; // storage refused: the link shows on this page only
    }
  }

  function remember(name, value) {
    var s = storage();
    try {
      if (s) {
        s.setItem(name, value);
      }
    } catch (e) {
      // Full or refused: nothing to do but go on without it.
    }
  }

  function recall(name, remove) {
    var s = storage();
    try {
      var v = s ? s.getItem(name) : null;
      if (remove && v !== null) {
        s.removeItem(name);
      }
      return v;
    } catch (e) {
      return null;
    }
  }

  function codePoints(s) {
    return Array.from(s).length;
  }

  // fail shows a message in the form's alert, and gives the form back.
  function fail(form, message, focus) {
    var box = byId("zk-error", form.ownerDocument);
    if (box) {
      box.querySelector("p").textContent = message;
      box.hidden = false;
    }
    busy(form, false);
    if (focus) {
      focus.setAttribute("aria-invalid", "true");
      focus.focus();
    }
  }

  // clearError takes back what fail said, before another try.
  function clearError(form, fields) {
    show(byId("zk-error", form.ownerDocument), false);
    fields.forEach(function (f) {
      if (f) {
        f.removeAttribute("aria-invalid");
      }
    });
  }

  // busy disables the form's buttons while the browser derives (a
  // passphrase takes a noticeable moment), and says so.
  function busy(form, on) {
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
      b.disabled = on;
    });
    var status = byId("zk-status", form.ownerDocument);
    if (status) {
      status.textContent = on ? form.getAttribute("data-msg-working") : "";
    }
  }

  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    input.setAttribute("data-zk-field", "");
    form.appendChild(input);
  }

  // forget removes what this tab keeps under the prefix: a password
  // generated for a share that never reached its receipt page.
  function forget(prefix) {
    var s = storage();
    try {
      for (var i = s ? s.length - 1 : -1; i >= 0; i--) {
        var k = s.key(i);
        if (k && k.indexOf(prefix) === 0) {
          s.removeItem(k);
        }
      }
    } catch (e) {
      // Refused: there is nothing kept either.
    }
  }

  // The share form.
  function shareForm(form) {
    forget(GENERATED_KEY);
    if (location.hash) {
      // The form again after a refused share: the key of that try, which
      // opens nothing, leaves the address bar and the history.
      history.replaceState(history.state, "", location.pathname + location.search);
    }
    if (!available()) {
      show(byId("mode-nocrypto"), true);
      return; // the server-side mode, as without JavaScript
    }
    show(byId("mode-zk"), true);
    // The server cannot know the fragment: it could only e-mail a link
    // that does not open.
    var recipient = byId("recipient");
    if (recipient) {
      recipient.disabled = true;
      show(byId("recipient-field"), false);
      show(byId("zk-recipient-note"), true);
    }
    var action = form.getAttribute("action");
    var working = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (working) {
        return;
      }
      var generate = !!(ev.submitter && ev.submitter.id === "generate");
      var secret = byId("secret");
      var pass = byId("passphrase");
      clearError(form, [secret, pass]);
      var passphrase = pass ? pass.value : "";
      var value = generate ? password(+form.getAttribute("data-password-length")) : secret.value;
      var n = codePoints(passphrase);
      if (passphrase !== "" && (n < +form.getAttribute("data-min-passphrase") || n > +form.getAttribute("data-max-passphrase"))) {
        fail(form, form.getAttribute("data-msg-passphrase"), pass);
        return;
      }
      if (value === "") {
        fail(form, form.getAttribute("data-msg-empty"), secret);
        return;
      }
      var bytes = utf8.encode(value);
      if (bytes.length > +form.getAttribute("data-max-value")) {
        fail(form, form.getAttribute("data-msg-toolarge"), secret);
        return;
      }
      working = true;
      busy(form, true);
      var key = newKey();
      derive(key, passphrase).then(function (d) {
        return seal(d, bytes).then(function (sealed) {
          var fragment = encode(key);
          Array.prototype.forEach.call(form.querySelectorAll("[data-zk-field]"), function (el) { el.remove(); });
          hidden(form, "secret", sealed);
          hidden(form, "proof_verifier", d.keyVerifier);
          if (d.passphraseVerifier) {
            hidden(form, "passphrase_verifier", d.passphraseVerifier);
          }
          if (generate) {
            remember(GENERATED_KEY + fragment, value);
          }
          // Neither the value nor the passphrase is posted: the fields
          // are emptied and left out of the form's data.
          secret.value = "";
          secret.disabled = true;
          if (pass) {
            pass.value = "";
            pass.disabled = true;
          }
          // The fragment rides on the action: the redirect to the
          // receipt keeps it, and no request carries it.
          form.setAttribute("action", action + "#" + fragment);
          form.submit();
        });
      }).catch(function () {
        working = false;
        fail(form, form.getAttribute("data-msg-failed"));
      });
    });
    // Back to this page from the receipt (the back-forward cache): the
    // form as it was rendered, empty.
    window.addEventListener("pageshow", function (ev) {
      if (!ev.persisted) {
        return;
      }
      working = false;
      form.setAttribute("action", action);
      Array.prototype.forEach.call(form.querySelectorAll("[data-zk-field]"), function (el) { el.remove(); });
      ["secret", "passphrase"].forEach(function (id) {
        var el = byId(id);
        if (el) {
          el.disabled = false;
        }
      });
      busy(form, false);
    });
  }

  // The receipt of a zero-knowledge secret: the whole link, where this tab
  // has its key.
  function receipt(box) {
    var mkey = box.getAttribute("data-metadata-key");
    var fragment = location.hash.slice(1);
    if (parseKey(fragment)) {
      // Arrived from the share form: keep the key for this tab, and take
      // it out of the address bar (and of the history), which the
      // receipt's address may be copied from.
      remember(LINK_KEY + mkey, fragment);
      history.replaceState(history.state, "", location.pathname + location.search);
    } else {
      fragment = recall(LINK_KEY + mkey);
    }
    if (!fragment || !parseKey(fragment)) {
      return; // the page says where the whole link is: the sender's copy
    }
    var link = byId("link");
    link.textContent = box.getAttribute("data-link") + "#" + fragment;
    show(byId("link-field"), true);
    show(byId("zk-nokey"), false);
    show(byId("zk-keyhere"), true);
    var pw = recall(GENERATED_KEY + fragment, true);
    var tpl = byId("zk-generated");
    if (pw !== null && tpl) {
      // A password generated on the form: shown once, as the server shows
      // the ones it makes (a reload is the receipt), and the way to the
      // receipt, as there.
      var block = tpl.content.firstElementChild.cloneNode(true);
      block.querySelector("#value").textContent = pw;
      tpl.replaceWith(block);
      if (window.OnetimeCopy) {
        window.OnetimeCopy(block);
      }
      show(byId("zk-receipt-link"), true);
      byId("title").textContent = box.getAttribute("data-generated-title");
      document.title = box.getAttribute("data-generated-doc-title");
    }
  }

  var C0 = ["NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"];

  function isControl(c) {
    return (c < 0x20 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c <= 0x9f);
  }

  function hex4(c) {
    return "U+" + ("000" + c.toString(16).toUpperCase()).slice(-4);
  }

  // showValue puts an opened value in the page as the server shows one
  // (valueHTML): control characters as their names in a box, the real
  // characters in data-raw for Copy, and the note that says so.
  function showValue(pre, bytes, root) {
    var text = new TextDecoder().decode(bytes);
    var controls = false;
    pre.textContent = "";
    var run = "";
    Array.from(text).forEach(function (ch) {
      var c = ch.codePointAt(0);
      if (!isControl(c)) {
        run += ch;
        return;
      }
      controls = true;
      if (run) {
        pre.appendChild(document.createTextNode(run));
        run = "";
      }
      var mark = document.createElement("span");
      mark.className = "ctl";
      mark.title = hex4(c);
      mark.textContent = c < 0x20 ? C0[c] : c === 0x7f ? "DEL" : hex4(c);
      pre.appendChild(mark);
    });
    if (run) {
      pre.appendChild(document.createTextNode(run));
    }
    if (controls) {
      var b = "";
      for (var i = 0; i < bytes.length; i += 0x8000) {
        b += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      }
      pre.setAttribute("data-raw", btoa(b));
      pre.setAttribute("aria-describedby", "value-controls");
      show(byId("value-controls", root), true);
    }
  }

  // swap replaces the page's main content and title with those of an
  // answer, and moves the focus to its heading.
  function swap(doc) {
    var main = doc.querySelector("main");
    if (!main) {
      throw new Error("no page");
    }
    main = document.importNode(main, true);
    // A parsed answer had no scripting: its <noscript> notes are content
    // there, and would show here.
    Array.prototype.forEach.call(main.querySelectorAll("noscript"), function (n) { n.remove(); });
    document.querySelector("main").replaceWith(main);
    document.title = doc.title;
    if (window.OnetimeCopy) {
      window.OnetimeCopy(main);
    }
    var h1 = main.querySelector("h1");
    if (h1) {
      h1.tabIndex = -1;
      h1.focus();
    }
    return main;
  }

  // The confirmation page of a zero-knowledge secret.
  function revealForm(form) {
    var key = parseKey(location.hash.slice(1));
    var button = byId("reveal", form);
    if (!available()) {
      show(byId("zk-nocrypto"), true);
      return;
    }
    if (!key) {
      show(byId("zk-nokey"), true);
      return; // nothing to prove: the secret stays
    }
    button.disabled = false;
    button.hidden = false;
    show(byId("passphrase-field", form), true);
    var field = byId("passphrase", form);
    if (field && document.activeElement === document.body) {
      field.focus(); // its autofocus missed it while it was hidden
    }
    var action = form.getAttribute("action");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (button.disabled) {
        return;
      }
      var pass = byId("passphrase", form);
      var passphrase = pass ? pass.value : "";
      show(byId("zk-error"), false);
      busy(form, true);
      var d;
      derive(key, passphrase).then(function (derived) {
        d = derived;
        if (pass) {
          pass.value = "";
        }
        var body = new URLSearchParams();
        body.set("nonce", form.querySelector("input[name=nonce]").value);
        body.set("proof", d.keyProof);
        if (d.passphraseProof) {
          body.set("passphrase_proof", d.passphraseProof);
        }
        var post = function () {
          return fetch(action, {
            method: "POST", body: body, credentials: "same-origin", cache: "no-store",
            redirect: "error", referrerPolicy: "no-referrer"
          });
        };
        // An answer lost on the way: the same post again, with the same
        // nonce, gets the same answer (the server's replay window).
        return post().catch(post);
      }).then(function (res) {
        return res.text().then(function (html) {
          return { ok: res.ok, doc: new DOMParser().parseFromString(html, "text/html") };
        });
      }).then(function (answer) {
        var sealed = answer.doc.querySelector("#value[data-sealed]");
        if (!answer.ok || !sealed) {
          // A wrong passphrase (the form again, with the attempts
          // left), a secret gone, a limit: the page as the server made it.
          var main = swap(answer.doc);
          var again = main.querySelector("form[data-zk-reveal]");
          if (again) {
            revealForm(again);
            var p = byId("passphrase", main);
            if (p) {
              p.focus();
            }
          }
          return;
        }
        return open(d, sealed.getAttribute("data-sealed")).then(function (bytes) {
          var main = swap(answer.doc);
          var pre = byId("value", main);
          pre.removeAttribute("data-sealed");
          showValue(pre, bytes, main);
        });
      }).catch(function () {
        fail(form, form.getAttribute("data-msg-failed"));
      });
    });
  }

  var share = byId("share-form");
  if (share && share.hasAttribute("data-zk")) {
    shareForm(share);
  }
  var rec = byId("zk-receipt");
  if (rec) {
    receipt(rec);
  }
  // The receipt of a secret gone: its link's key is of no more use here.
  var gone = document.querySelector("[data-zk-forget]");
  if (gone) {
    recall(LINK_KEY + gone.getAttribute("data-zk-forget"), true);
  }
  var reveal = document.querySelector("form[data-zk-reveal]");
  if (reveal) {
    revealForm(reveal);
  }
})();
