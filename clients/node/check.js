#!/usr/bin/env node
// Drives the onetimesecret-api npm client (1.1.3) against a running onetime
// server: share with a passphrase, metadata, reveal, a second reveal that
// must fail with UnknownSecretError, generate, burn, recent.
//
//   ONETIME_CUSTID=alice ONETIME_APITOKEN=token node check.js http://127.0.0.1:7143
//
// The client sends Basic credentials on every request, so the server must
// know them (its -users file). Exits non-zero on any failure.
"use strict";

const ots = require("onetimesecret-api/index.js");

const url = process.argv[2];
const custid = process.env.ONETIME_CUSTID;
const token = process.env.ONETIME_APITOKEN;
if (!url || !custid || !token) {
  console.error("usage: ONETIME_CUSTID=... ONETIME_APITOKEN=... node check.js SERVER_URL");
  process.exit(2);
}

let failures = 0;
let passes = 0;
function check(cond, what) {
  if (cond) {
    passes++;
    console.log("ok   " + what);
  } else {
    failures++;
    console.log("FAIL " + what);
  }
}

async function main() {
  const api = new ots.OneTimeSecretApi(custid, token, { url: url });

  check(await api.status() === true, "status is nominal");

  const value = "npm client ✓ secret\nwith a trailing newline\n";
  const shared = await api.share(value, { passphrase: "open sesame", ttl: 3600 });
  check(typeof shared.secret_key === "string" && /^[0-9a-z]+$/.test(shared.secret_key), "share answers a secret_key");
  check(typeof shared.metadata_key === "string" && /^[0-9a-z]+$/.test(shared.metadata_key), "share answers a metadata_key");
  check(shared.custid === custid, "share is owned by the customer");
  check(shared.ttl === 3600, "share keeps the ttl");
  check(shared.passphrase_required === true, "share reports the passphrase");
  check(shared.share_link === url + "/secret/" + shared.secret_key, "share_link is built from secret_key");

  // As the reference answers: the first read reports the state before it
  // (new) and moves the receipt to viewed; later reads say viewed.
  const meta = await api.retrieveMetadata(shared.metadata_key);
  check(meta.state === "new", "the first metadata read shows new");
  const again = await api.retrieveMetadata(shared.metadata_key);
  check(again.state === "viewed", "a second metadata read shows viewed");
  check(meta.secret_key === shared.secret_key, "metadata carries the secret key");
  check(Array.isArray(meta.recipient), "metadata recipient is an array");

  let wrongRejected = false;
  try {
    await api.retrieveSecret(shared.secret_key, { passphrase: "wrong" });
  } catch (e) {
    wrongRejected = e instanceof ots.UnknownSecretError;
  }
  check(wrongRejected, "a wrong passphrase is UnknownSecretError");

  const revealed = await api.retrieveSecret(shared.secret_key, { passphrase: "open sesame" });
  check(revealed.value === value, "reveal returns the value byte for byte");
  check(revealed.secret_key === shared.secret_key, "reveal echoes the secret key");

  let second = null;
  try {
    await api.retrieveSecret(shared.secret_key, { passphrase: "open sesame" });
    second = "no error";
  } catch (e) {
    second = e;
  }
  check(second instanceof ots.UnknownSecretError, "a second reveal fails with UnknownSecretError (" +
    (second && second.constructor ? second.constructor.name : second) + ")");

  const generated = await api.generate({ ttl: 600 });
  check(typeof generated.value === "string" && generated.value.length === 12, "generate answers a 12-character value");
  check(generated.ttl === 600, "generate keeps the ttl");

  const burned = await api.burn(generated.metadata_key);
  check(burned.state && burned.state.state === "burned", "burn: state.state is burned");
  check(burned.secret_shortkey === generated.secret_key.slice(0, 6), "burn: secret_shortkey is the key's first 6 characters");

  let burnedGone = false;
  try {
    await api.retrieveSecret(generated.secret_key);
  } catch (e) {
    burnedGone = e instanceof ots.UnknownSecretError;
  }
  check(burnedGone, "a burned secret is UnknownSecretError");

  const recent = await api.recentMetadata();
  check(Array.isArray(recent), "recent is an array");
  const keys = recent.map((r) => r.metadata_key);
  check(keys[0] === generated.metadata_key && keys.includes(shared.metadata_key), "recent lists the customer's receipts, newest first");
  check(recent.every((r) => r.secret_ttl === null && !("secret_key" in r)), "recent entries carry no secret key");

  const bad = new ots.OneTimeSecretApi(custid, token + "x", { url: url });
  let unauthorized = false;
  try {
    await bad.recentMetadata();
  } catch (e) {
    unauthorized = e instanceof ots.NotAuthorizedError;
  }
  check(unauthorized, "a wrong token is NotAuthorizedError");
}

main().then(
  () => {
    console.log(passes + " passed, " + failures + " failed");
    process.exit(failures === 0 ? 0 : 1);
  },
  (err) => {
    console.error("check.js: " + (err && err.stack ? err.stack : err));
    console.log(passes + " passed, " + (failures + 1) + " failed");
    process.exit(1);
  }
);
