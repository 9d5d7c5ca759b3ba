// Signatures as JWT libraries use them: RS256 (deterministic, so the signature itself is
// compared) and ES256 (random, so what verifies). Test keys made for this file only.
const crypto = require("crypto");
const RSA_PRIVATE = "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCOC61B2yCsggh8\nu2Y9HhdTDCFY8ScnTK7qcM+Jp3oTnxKWWCt/7filqDb6ygonWgVwKTaMJH0pkNGH\n7NQcNS7n61Dp6+w0ULmixX3eI6m0W62aRz3RnLaBE5ckpoObunEHz16N/q655K3T\nAa3bly6xlpFMpF/FnNkRT0cmlaBLM0pAR4eQVL3m9x9lKiR0Kyn5CqY6X3fDLwzw\n2koSRQ3UETtql8lUDTdA+njMxwH+EOFpSA1NVlG97WpY2pc8w/CpuEZdHkDPmVdc\nhyaos1wszpiqMfnDIKAQUh7W64sNv0HubpBAPbDRTrfp50Ur2SyGXvgK4RvlT0I1\nNPE1jKf/AgMBAAECggEAMUVKnT/RhxT5ta5ZKdUAuS1Jeez4LFEUkTx9OJ3PofO5\nAk5mFFNqvqdpHrerKvg2T6/z/EuB4MObcn8LGhe2g/qjT+imP4VKxvOjE8UiDe4I\n+y0/+6/UvFQbxro9h2x13YQoI6/WUqPISZtY/4TizPXRw5h2ofikcLUjlHYtKjgF\nVbt53u/9CnZ+gakNcjIEJpWM58gInwe7NM6RE8Wli3xuQzCxHDupai3cs8ngvYkj\nnJwJmCfKAVYs+Oq8392EErgTVaN+DxO7T7x51u25PsKtEKNF2B3QPaHm+g04o0Mc\n1iMuVDHNT6LJ5JYYLtI4Nd1FPhaWf3siTWrzwSH6tQKBgQDIBCw/Ocr8Dyi3JIfY\n/IGcfgwLhXs87k0IYMcFufV4I48vXyrgC287JfHomxAXptJhnxz0iXDhzyNQJ0IL\nic5Kv/qObLEwcuFWzhZ42dmL5H7yZtOg8cAJMapGQqvYDHvc6uqWEz/uwOoykdFk\nMmIn7kd4Sp3JmruYrUkcl9In1QKBgQC1zbaNwRyvX/TR++7dlNjAPumkLem3GEoq\nk0PJvmpiIKwCiHM7LW9FUs1uUXQyZGvdNing0m4ux0m8VC7U4VLzFymNMa6l7Jdc\nuz2NIOO13ndNh+4Jf9fJjta7TjqRSdiKIlfsSURlK1tjNlAJCyQLJES2XtY4TgnH\nq+jpcXIugwKBgQCT+jJaHIHGddijlk1DBZ1GkCKNK5X/gDZRqnfUDr5CwdwfKgNo\nek0yr2IHuyDuvqcLPlKHwF9ZUIxJsqG0M6IBv4K5eESnGXcJZ7NMea/vRX9+CwEr\nI2/13V6iWJUWZDYHPW2M1nUISIV8IFGQFY51CF6r6lhOXUHJNPrQQqpieQKBgCEF\nBtYCL/KOTAnjZwPpp+BqzMab7CnsCHRpINPAeNPvuS4QmFU0MFR38IXL133bjVe1\nIbAKqCZo3bSN2Z+ieQ1btJlHX8AVE3ytKUW7pn/+ss5rFMm25XtfLRMB51NCBUk5\naZypxflWAZgoYiryUg6P/MbevKunSNFyILBdgW5/AoGBAKJCglnr7OYSKRH4MI3m\n3yjggY2Qr7SzxCxDQ3OEc/4tdpwdgrS0P2XnifLoba/xd1wLhShijJMW1puCHCAy\ncVAE0M1IHNTwuuXHG3lfJzO6T51FZW/Lwx47PXATm9B8XmE+1u+M4lP4eAd1YQaO\nX4VZRyG2m12+sHnhtOf6CpvZ\n-----END PRIVATE KEY-----\n";
const RSA_PUBLIC = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAjgutQdsgrIIIfLtmPR4X\nUwwhWPEnJ0yu6nDPiad6E58Sllgrf+34pag2+soKJ1oFcCk2jCR9KZDRh+zUHDUu\n5+tQ6evsNFC5osV93iOptFutmkc90Zy2gROXJKaDm7pxB89ejf6uueSt0wGt25cu\nsZaRTKRfxZzZEU9HJpWgSzNKQEeHkFS95vcfZSokdCsp+QqmOl93wy8M8NpKEkUN\n1BE7apfJVA03QPp4zMcB/hDhaUgNTVZRve1qWNqXPMPwqbhGXR5Az5lXXIcmqLNc\nLM6YqjH5wyCgEFIe1uuLDb9B7m6QQD2w0U636edFK9kshl74CuEb5U9CNTTxNYyn\n/wIDAQAB\n-----END PUBLIC KEY-----\n";
const EC_PRIVATE = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKZ9Inm5Kq5OFyHDv\nLpTY/oPVD6owYcLexOvYPzSF022hRANCAAQ9ndJbW3hgfjB/G2R7hiUcuzDkXwYc\nWJ/ZxF2M3abNDR5ELdv6rT+ZSZwbY/rb/KRBEsbKwDjahAxQauw86CGU\n-----END PRIVATE KEY-----\n";
const EC_PUBLIC = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPZ3SW1t4YH4wfxtke4YlHLsw5F8G\nHFif2cRdjN2mzQ0eRC3b+q0/mUmcG2P62/ykQRLGysA42oQMUGrsPOghlA==\n-----END PUBLIC KEY-----\n";
const EC_SIG_BY_NODE = "ZFwqLALulbieMbopy8Sa+BBg5E+2po00Sba389A0C9K71A/lHFskzXZhnS7TGCtEiR9jExCjOCi/ScOYtwYKhQ=="; // crypto.createSign("SHA256").update("payload").sign({ key: EC_PRIVATE, dsaEncoding: "ieee-p1363" }, "base64")
const b64url = (b) => Buffer.from(b).toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
t("RS256 signature", () => crypto.createSign("RSA-SHA256").update("payload").sign(RSA_PRIVATE, "base64"));
t("RS384 and RS512 signatures", () => ["RSA-SHA384", "sha512"].map((a) => crypto.createSign(a).update("payload").sign(RSA_PRIVATE, "hex")));
t("RS256 verify", () => { const s = crypto.createSign("SHA256").update("payload").sign(RSA_PRIVATE); return [crypto.createVerify("SHA256").update("payload").verify(RSA_PUBLIC, s), crypto.createVerify("SHA256").update("payloaX").verify(RSA_PUBLIC, s)]; });
t("a JWT signed and checked", () => {
  const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" })), body = b64url(JSON.stringify({ sub: "u1", exp: 4102444800 }));
  const sig = crypto.createSign("RSA-SHA256").update(head + "." + body).sign(RSA_PRIVATE, "base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const token = [head, body, sig].join(".");
  const [h, p, s] = token.split(".");
  const ok = crypto.createVerify("RSA-SHA256").update(h + "." + p).verify(RSA_PUBLIC, Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
  return [token.length, ok, JSON.parse(Buffer.from(p, "base64").toString()).sub];
});
t("ES256 sign then verify, both encodings", () => {
  const der = crypto.createSign("SHA256").update("payload").sign(EC_PRIVATE);
  const raw = crypto.createSign("SHA256").update("payload").sign({ key: EC_PRIVATE, dsaEncoding: "ieee-p1363" });
  return [raw.length, crypto.createVerify("SHA256").update("payload").verify(EC_PUBLIC, der), crypto.createVerify("SHA256").update("payload").verify({ key: EC_PUBLIC, dsaEncoding: "ieee-p1363" }, raw)];
});
t("ES256 verifies Node's signature", () => crypto.createVerify("SHA256").update("payload").verify({ key: EC_PUBLIC, dsaEncoding: "ieee-p1363" }, EC_SIG_BY_NODE, "base64"));
t("one-shot sign and verify", () => { const s = crypto.sign("sha256", Buffer.from("x"), RSA_PRIVATE); return [s.length, crypto.verify("sha256", Buffer.from("x"), RSA_PUBLIC, s)]; });
