/**
 * The deploy smoke issuer's pure parts (contract/smokeIssuer.ts): its JWKS and kid from a P-256 key, Envoy's second
 * provider beside the players' (issuer header copied by both, a client's copy stripped, any of the two required),
 * Camel's refusal of non-smoke subjects under any issuer but the players', the smoke tool's ES256 tokens, and the
 * config default per environment. The real Envoy + Camel run it in test/real/ingestGatewaySmoke.test.ts.
 */
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defaultSmokeIssuer } from "../config";
import { camelIngestRoutes, envoyGatewayConfig, refusalTable, SUBJECT_HEADER, type EnvoyGatewayOptions } from "../contract/ingestGateway";
import {
  ISSUER_HEADER,
  SMOKE_AUDIENCE,
  SMOKE_REFUSAL_MESSAGE,
  SMOKE_REFUSAL_REASON,
  SMOKE_USER_PREFIX,
  smokeIssuerFor,
  smokeJwks,
  smokeKid,
  smokeSubjectCondition,
} from "../contract/smokeIssuer";
import { tokenMinter } from "../tools/loadgen/jwt";
import { SMOKE_ID_PREFIX } from "../tools/smoke/scenario";

const PLAYERS = "https://login.example.com/";
const base: EnvoyGatewayOptions = {
  listenAddress: "0.0.0.0", listenPort: 8080, adminAddress: "127.0.0.1", adminPort: 9901, upstreamPort: 8081,
  issuer: PLAYERS, audiences: ["watchpipe-player"], jwks: { kind: "remote", url: "https://login.example.com/.well-known/jwks.json" },
};
const smoke = { issuer: smokeIssuerFor("dev"), audiences: [SMOKE_AUDIENCE], jwksFile: "/etc/watchpipe/ingest-smoke/jwks.json" };
const pair = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
const pem = (k: ReturnType<typeof pair>) => ({
  priv: k.privateKey.export({ format: "pem", type: "sec1" }).toString(),
  pub: k.publicKey.export({ format: "pem", type: "spki" }).toString(),
});

interface JwtAuthn { providers: Record<string, Record<string, unknown>>; rules: unknown[] }
function jwtAuthn(cfg: unknown): JwtAuthn {
  const found: JwtAuthn[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (o.name === "envoy.filters.http.jwt_authn") found.push(o.typed_config as JwtAuthn);
      else Object.values(o).forEach(walk);
    }
  };
  walk(cfg);
  return found[0]!;
}

describe("the deploy smoke issuer's key", () => {
  it("publishes one ES256 P-256 key whose kid follows the key", () => {
    const a = pem(pair());
    const jwks = JSON.parse(smokeJwks(a.pub)) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid: smokeKid(a.pub) });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    expect(smokeKid(pem(pair()).pub)).not.toBe(smokeKid(a.pub));
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "pem", type: "spki" }).toString();
    expect(() => smokeJwks(rsa)).toThrow(/expected an ECDSA P-256 public key \(ES256\); got RSA/);
  });

  it("the smoke tool mints ES256 tokens with it that verify against the published key, sub = the smoke user", () => {
    const a = pem(pair());
    const token = tokenMinter({ keyPem: a.priv, kid: smokeKid(a.pub), issuer: smokeIssuerFor("dev"), audience: SMOKE_AUDIENCE }).tokenFor(`${SMOKE_USER_PREFIX}r1-u1`);
    const [h, p, sig] = token.split(".") as [string, string, string];
    expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual({ alg: "ES256", typ: "JWT", kid: smokeKid(a.pub) });
    expect(JSON.parse(Buffer.from(p, "base64url").toString())).toMatchObject({ iss: "watchpipe-smoke/dev", aud: SMOKE_AUDIENCE, sub: "smoke-r1-u1" });
    const jwk = (JSON.parse(smokeJwks(a.pub)) as { keys: Record<string, string>[] }).keys[0]!;
    const key = createPublicKey({ key: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! }, format: "jwk" });
    expect(verify("sha256", Buffer.from(`${h}.${p}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(sig, "base64url"))).toBe(true);
  });

  it("the smoke test's ids and the gateway's scope share one prefix", () => {
    expect(SMOKE_ID_PREFIX).toBe(SMOKE_USER_PREFIX);
  });
});

describe("Envoy with the smoke issuer", () => {
  it("trusts it as a second provider from a local JWKS, with its own issuer and audience; either provider passes the one rule", () => {
    const cfg = jwtAuthn(envoyGatewayConfig({ ...base, smoke }));
    expect(Object.keys(cfg.providers)).toEqual(["players", "smoke"]);
    expect(cfg.providers.smoke).toMatchObject({ issuer: "watchpipe-smoke/dev", audiences: [SMOKE_AUDIENCE], local_jwks: { filename: smoke.jwksFile }, forward: false });
    expect(cfg.providers.smoke).not.toHaveProperty("remote_jwks");
    expect(cfg.rules).toEqual([{ match: { prefix: "/" }, requires: { requires_any: { requirements: [{ provider_name: "players" }, { provider_name: "smoke" }] } } }]);
  });

  it("both providers copy the verified subject and issuer; without the smoke issuer nothing changes", () => {
    const cfg = jwtAuthn(envoyGatewayConfig({ ...base, smoke }));
    const both = [{ header_name: SUBJECT_HEADER, claim_name: "sub" }, { header_name: ISSUER_HEADER, claim_name: "iss" }];
    expect(cfg.providers.players!.claim_to_headers).toEqual(both);
    expect(cfg.providers.smoke!.claim_to_headers).toEqual(both);
    const alone = jwtAuthn(envoyGatewayConfig(base));
    expect(Object.keys(alone.providers)).toEqual(["players"]);
    expect(alone.providers.players!.claim_to_headers).toEqual([{ header_name: SUBJECT_HEADER, claim_name: "sub" }]);
    expect(alone.rules).toEqual([{ match: { prefix: "/" }, requires: { provider_name: "players" } }]);
  });

  it("refuses a smoke issuer equal to the players' or without an audience", () => {
    expect(() => envoyGatewayConfig({ ...base, smoke: { ...smoke, issuer: PLAYERS } })).toThrow(/expected an issuer other than the players'/);
    expect(() => envoyGatewayConfig({ ...base, smoke: { ...smoke, audiences: [] } })).toThrow(/smoke\.audiences: .*got none/);
  });
});

describe("Camel with the smoke issuer", () => {
  it("refuses, before anything is produced, any request whose issuer is not the players' and whose subject lacks the prefix", () => {
    const routes = JSON.stringify(camelIngestRoutes({ smokeScope: { playersIssuer: PLAYERS } }));
    const condition = smokeSubjectCondition(PLAYERS, SUBJECT_HEADER);
    expect(condition).toBe(`\${header.${ISSUER_HEADER}} != '${PLAYERS}' && \${header.${SUBJECT_HEADER}} !startsWith '${SMOKE_USER_PREFIX}'`);
    expect(routes).toContain(JSON.stringify(condition));
    expect(routes.indexOf(JSON.stringify(condition))).toBeLessThan(routes.indexOf('"uri":"kafka:'));
    expect(routes).toContain(`"tags.reason":"${SMOKE_REFUSAL_REASON}"`);
    expect(JSON.stringify(camelIngestRoutes())).not.toContain(ISSUER_HEADER);
    expect(() => smokeSubjectCondition("https://x/'||true", SUBJECT_HEADER)).toThrow(/ingest\.jwt\.issuer: .*quoted literal/);
  });

  it("the refusal table names the case with its status, reason and metric", () => {
    expect(refusalTable(15).find((r) => r.metric.includes(`reason="${SMOKE_REFUSAL_REASON}"`))).toEqual({
      case: "smoke-issuer token for a user outside the smoke prefix", status: 403, reason: SMOKE_REFUSAL_MESSAGE, metric: `watchpipe_ingest_refused_total{reason="${SMOKE_REFUSAL_REASON}"}`,
    });
  });
});

describe("config: ingest.gateway.smokeIssuer unset", () => {
  it.each([["dev", true], ["local", true], ["prod", false], [undefined, false]])("environment %s -> %s", (env, on) => {
    expect(defaultSmokeIssuer(env)).toBe(on);
  });
});
