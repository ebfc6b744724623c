/**
 * A throwaway identity provider for the ingest gateway's real-server runs: an RSA key pair, its JWKS file, and RS256
 * tokens signed with it (what the ALB would have validated and passed on). Node's crypto only.
 */
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { signRs256 } from "../../../tools/loadgen/jwt";

export const TEST_ISSUER = "https://login.watchpipe.test/";
export const TEST_AUDIENCE = "watchpipe-player";

export interface TestIdp {
  /** Path of the JWKS file Envoy reads. */
  readonly jwksFile: string;
  /** A token with these claims (defaults: iss, aud, an hour of validity), signed with this provider's key. */
  token(claims: Record<string, unknown>): string;
  /** The same claims signed by a key this provider does not publish. */
  forgedToken(claims: Record<string, unknown>): string;
  /** The signing key (PEM) and its JWKS `kid`: what the load generator's gateway mode mints tokens with. */
  readonly privateKeyPem: string;
  readonly kid: string;
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
    token: (claims) => signRs256(privateKey, kid, withDefaults(claims)),
    forgedToken: (claims) => signRs256(other, kid, withDefaults(claims)),
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    kid,
  };
}
