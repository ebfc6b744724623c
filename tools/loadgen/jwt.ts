/**
 * Player tokens for gateway mode: JWTs signed with a key the gateway trusts: RS256 with an RSA key (a load-test
 * identity provider's; the real suites make a throwaway one), ES256 with a P-256 key (the stack's deploy smoke issuer,
 * contract/smokeIssuer.ts). Node's crypto only. Tokens are minted once per user and renewed
 * a minute before they expire, so a long run never sends an expired one.
 */
import { createPrivateKey, createSign, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { UsageError } from "../exitCodes";
import type { GatewayTarget } from "./config";

export interface TokenSettings {
  /** PEM of the private key (RSA: RS256; ECDSA P-256: ES256) whose public half the gateway's JWKS lists. */
  readonly keyPem: string;
  /** The JWKS entry's `kid`. */
  readonly kid: string;
  readonly issuer: string;
  readonly audience: string;
  /** Lifetime of a minted token (default 1 h). */
  readonly ttlSec?: number;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** Pure apart from the signature: header.payload.signature of an RS256 JWT. */
export function signRs256(key: KeyObject, kid: string, claims: Readonly<Record<string, unknown>>): string {
  const head = b64url({ alg: "RS256", typ: "JWT", kid });
  const body = b64url(claims);
  const sig = createSign("RSA-SHA256").update(`${head}.${body}`).sign(key).toString("base64url");
  return `${head}.${body}.${sig}`;
}

/** Pure apart from the signature: header.payload.signature of an ES256 JWT (JOSE's raw r||s, not DER). */
export function signEs256(key: KeyObject, kid: string, claims: Readonly<Record<string, unknown>>): string {
  const head = b64url({ alg: "ES256", typ: "JWT", kid });
  const body = b64url(claims);
  const sig = sign("sha256", Buffer.from(`${head}.${body}`), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");
  return `${head}.${body}.${sig}`;
}

/** The signer for a key: RS256 for RSA, ES256 for P-256; anything else is refused with what was found. */
function signerFor(key: KeyObject): typeof signRs256 {
  if (key.asymmetricKeyType === "rsa") return signRs256;
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return signEs256;
  throw new Error(`expected an RSA key (RS256) or an ECDSA P-256 key (ES256); got ${key.asymmetricKeyType ?? "?"} ${key.asymmetricKeyDetails?.namedCurve ?? ""}`.trim());
}

/** Renew this long before expiry. */
const RENEW_BEFORE_SEC = 60;

/** A per-user token cache: `tokenFor(user)` returns a current token whose `sub` is that user. */
export function tokenMinter(s: TokenSettings, now: () => number = Date.now): { tokenFor(user: string): string } {
  let key: KeyObject;
  let signer: typeof signRs256;
  try {
    key = createPrivateKey(s.keyPem);
    signer = signerFor(key);
  } catch (err) {
    throw new Error(`--jwt-key: expected a PEM RSA private key (RS256) or P-256 private key (ES256) whose public half the gateway trusts; could not use it: ${(err as Error).message}`, { cause: err });
  }
  const ttl = s.ttlSec ?? 3600;
  const cache = new Map<string, { token: string; exp: number }>();
  return {
    tokenFor(user: string): string {
      const nowSec = Math.floor(now() / 1000);
      const hit = cache.get(user);
      if (hit && hit.exp - RENEW_BEFORE_SEC > nowSec) return hit.token;
      const exp = nowSec + ttl;
      const token = signer(key, s.kid, { iss: s.issuer, aud: s.audience, sub: user, iat: nowSec, exp });
      cache.set(user, { token, exp });
      return token;
    },
  };
}

/**
 * Gateway mode's `tokenFor(user)` from the parsed flags: reads --jwt-key and checks it is a private key before anything
 * is sent. Both failures are the caller's to fix, so they are {@link UsageError}s (exit 2) naming the flag.
 */
export function gatewayTokens(gw: Pick<GatewayTarget, "jwtKeyFile" | "jwtKid" | "jwtIssuer" | "jwtAudience">, read: (path: string) => string = (p) => readFileSync(p, "utf8")): (user: string) => string {
  let keyPem: string;
  try {
    keyPem = read(gw.jwtKeyFile);
  } catch (err) {
    throw new UsageError(`--jwt-key ${gw.jwtKeyFile}: cannot read it (${(err as Error).message}); pass the PEM private key of the load-test identity provider.`);
  }
  let minter: ReturnType<typeof tokenMinter>;
  try {
    minter = tokenMinter({ keyPem, kid: gw.jwtKid, issuer: gw.jwtIssuer, audience: gw.jwtAudience });
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (file ${gw.jwtKeyFile})`);
  }
  return (user) => minter.tokenFor(user);
}
