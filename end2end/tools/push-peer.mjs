// An independent Web Push receiver for the interoperability test
// (server/tests/api/push.rs): the npm package http_ece (Mozilla's reference
// implementation of RFC 8188/8291) decrypts what our server encrypted.
//
//   node push-peer.mjs gen                          -> {"p256dh","auth","private"}
//   node push-peer.mjs decrypt PRIVATE AUTH < body  -> the plaintext
import crypto from "node:crypto";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ece = require("http_ece");

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const [cmd, priv, auth] = process.argv.slice(2);

if (cmd === "gen") {
  const ecdh = crypto.createECDH("prime256v1");
  ecdh.generateKeys();
  process.stdout.write(JSON.stringify({
    p256dh: b64url(ecdh.getPublicKey()),
    auth: b64url(crypto.randomBytes(16)),
    private: b64url(ecdh.getPrivateKey()),
  }));
} else if (cmd === "decrypt") {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const ecdh = crypto.createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(priv, "base64url"));
  const plain = ece.decrypt(Buffer.concat(chunks), {
    version: "aes128gcm",
    privateKey: ecdh,
    authSecret: Buffer.from(auth, "base64url"),
  });
  process.stdout.write(plain);
} else {
  console.error("usage: push-peer.mjs gen | decrypt PRIVATE AUTH < body");
  process.exit(2);
}
