/**
 * The deploy smoke issuer (docs/ingest.md "The deploy smoke issuer"): a second token issuer the ingest gateway trusts
 * beside the players' identity provider, so the deploy workflow's smoke test can post through the gateway as players
 * do. Its key is the stack's own (an ES256 key the program generates, held by whoever can read the stack's secrets),
 * so it is scoped: Envoy passes the verified issuer to Camel, and Camel refuses any heartbeat whose token was not
 * issued by the players' provider unless its subject starts with {@link SMOKE_USER_PREFIX}. That key can never write
 * a player's watch history. No Pulumi here.
 */
import { createHash, createPublicKey } from "node:crypto";

/** Every user id (and video id) the smoke test writes starts with this (tools/smoke/scenario.ts); no player's does. */
export const SMOKE_USER_PREFIX = "smoke-";
/** Request header Envoy sets from the verified token's `iss` claim; Envoy strips any copy a client sends. */
export const ISSUER_HEADER = "x-watchpipe-iss";
/** jwt_authn provider names: the players' identity provider and the deploy smoke issuer. */
export const PLAYERS_PROVIDER = "players";
export const SMOKE_PROVIDER = "smoke";
/** ECDSA P-256 with SHA-256: a short key the program generates (@pulumi/tls), and Envoy verifies natively. */
export const SMOKE_TOKEN_ALG = "ES256";
/** The audience smoke tokens carry; Envoy's smoke provider accepts no other (and the players' provider not this one). */
export const SMOKE_AUDIENCE = "watchpipe-deploy-smoke";
/** Camel's refusal reason label (watchpipe_ingest_refused_total{reason="smoke_subject"}). */
export const SMOKE_REFUSAL_REASON = "smoke_subject";
/** The answer's message when a smoke-issuer token names a user outside the reserved prefix. */
export const SMOKE_REFUSAL_MESSAGE = `token: tokens of the deploy smoke issuer may write only ${SMOKE_USER_PREFIX}* users`;
/** Where the gateway pod mounts the smoke issuer's JWKS (its own Secret: the key is generated, so unknown at preview). */
export const SMOKE_JWKS_DIR = "/etc/watchpipe/ingest-smoke";
export const SMOKE_JWKS_FILE = "jwks.json";

/** The smoke issuer's `iss`, one per stack so a dev key is worthless against another stack. */
export function smokeIssuerFor(stack: string): string {
  return `watchpipe-smoke/${stack}`;
}

/** The key id: the first 16 base64url characters of the SHA-256 of the public key's DER (a new key, a new kid). */
export function smokeKid(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ format: "der", type: "spki" });
  return createHash("sha256").update(der).digest("base64url").slice(0, 16);
}

/** The JWKS Envoy's smoke provider reads: the one P-256 public key, its kid, ES256, signatures only. */
export function smokeJwks(publicKeyPem: string): string {
  const key = createPublicKey(publicKeyPem);
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") throw new Error(`smoke issuer key: expected an ECDSA P-256 public key (ES256); got ${jwk.kty ?? "?"} ${jwk.crv ?? ""}`.trim());
  return JSON.stringify({ keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: smokeKid(publicKeyPem), alg: SMOKE_TOKEN_ALG, use: "sig" }] });
}

/** A value Camel's simple language can hold in single quotes. */
function simpleLiteral(what: string, value: string): string {
  if (/['$\\{}]/.test(value)) throw new Error(`${what}: Camel's route compares it as a quoted literal; expected no ' $ \\ { }; got ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/**
 * Camel's condition for a refusal: the verified issuer is not the players' provider (the smoke issuer, or no issuer
 * header at all: fail closed) and the verified subject lacks the smoke prefix. A request whose records all equal that
 * subject (the route checks it next) then writes smoke users only.
 */
export function smokeSubjectCondition(playersIssuer: string, subjectHeader: string): string {
  return `\${header.${ISSUER_HEADER}} != ${simpleLiteral("ingest.jwt.issuer", playersIssuer)} && \${header.${subjectHeader}} !startsWith '${SMOKE_USER_PREFIX}'`;
}
