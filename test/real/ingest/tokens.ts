/**
 * A throwaway identity provider for the ingest gateway's real-server runs: an RSA key pair, its JWKS file, and RS256
 * tokens signed with it (what the ALB would have validated and passed on). Node's crypto only.
 */
import { createSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";

export const TEST_ISSUER = "https://login.watchpipe.test/";
export const TEST_AUDIENCE = "watchpipe-player";

export interface TestIdp {
  /** Path of the JWKS file Envoy reads. */
  readonly jwksFile: string;
  /** A token with these claims (defaults: iss, aud, an hour of validity), signed with this provider's key. */
  token(claims: Record<string, unknown>): string;
  /** The same claims signed by a key this provider does not publish. */
  forgedToken(claims: Record<string, unknown>): string;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

function sign(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const head = b64url({ alg: "RS256", typ: "JWT", kid });
  const body = b64url(claims);
  const sig = createSign("RSA-SHA256").update(`${head}.${body}`).sign(key).toString("base64url");
  return `${head}.${body}.${sig}`;
}

export function testIdp(jwksFile: string): TestIdp {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const kid = "test-key-1";
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] }));
  const withDefaults = (claims: Record<string, unknown>) => ({
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...claims,
  });
  return {
    jwksFile,
    token: (claims) => sign(privateKey, kid, withDefaults(claims)),
    forgedToken: (claims) => sign(other, kid, withDefaults(claims)),
  };
}
