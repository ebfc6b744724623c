/**
 * Gateway mode: POSTs heartbeats to the ingest gateway (docs/ingest.md) the way players do — each player's own
 * heartbeats, with its own token (sub = its user_id), up to the gateway's batch limit per request. Body: the Bridge's
 * JSON produce body `{"records":[{"value":{…heartbeat…}}]}`; the gateway keys each record by user_id|video_id and
 * stamps it. The answer is `{"offsets":[{"partition":p,"offset":o}, …]}` for the whole request, or a refusal
 * (`{"error_code":status,"message":…}`) that accepted none of it.
 */
import { INGEST_PATH } from "../../contract/ingestGateway";
import { SMOKE_REFUSAL_MESSAGE, SMOKE_USER_PREFIX } from "../../contract/smokeIssuer";
import type { LoadRecord } from "./records";
import type { SendResult } from "./kafkaSender";

/** Pure: the records of one batch grouped per user (a record's key is user_id|video_id), in batch order, each group cut to `max` per request. */
export function requestsByUser(records: readonly LoadRecord[], max: number): { user: string; records: LoadRecord[] }[] {
  const byUser = new Map<string, LoadRecord[]>();
  for (const r of records) {
    const user = r.key.slice(0, r.key.indexOf("|"));
    const list = byUser.get(user) ?? [];
    list.push(r);
    byUser.set(user, list);
  }
  const out: { user: string; records: LoadRecord[] }[] = [];
  for (const [user, list] of byUser) {
    for (let i = 0; i < list.length; i += max) out.push({ user, records: list.slice(i, i + max) });
  }
  return out;
}

/** Pure: the POST body for one player's request. */
export function gatewayRequestBody(records: readonly LoadRecord[]): string {
  return `{"records":[${records.map((r) => `{"value":${r.value}}`).join(",")}]}`;
}

/** Pure: how many records a 200 answer acknowledges (all or none: the gateway answers for the request). */
export function countGatewayAcks(body: unknown, sent: number): { acked: number; error: string | null } {
  const offsets = (body as { offsets?: unknown } | null)?.offsets;
  if (Array.isArray(offsets) && offsets.length === sent && offsets.every((o) => typeof (o as { offset?: unknown }).offset === "number")) return { acked: sent, error: null };
  return { acked: 0, error: `gateway answer has ${Array.isArray(offsets) ? offsets.length : "no"} offsets, expected ${sent}` };
}

/** The gateway answered a request with a status other than 200: nothing of that request was written. */
export class GatewayRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "GatewayRefusal";
  }
}

/** True for the answers that refuse the sender's token rather than its heartbeats: 401 (not verified), 403 (audience not accepted, or the subject is not the heartbeats' user). */
export function isTokenRefusal(err: unknown): err is GatewayRefusal {
  return err instanceof GatewayRefusal && (err.status === 401 || err.status === 403);
}

/**
 * What to fix after a 401 or 403: the sender's token settings, named by their flags. The gateway (Envoy jwt_authn,
 * then the route's subject check) refuses exactly these; docs/ingest.md has the refusal table.
 */
export function tokenRefusalHint(gw: { readonly url: string; readonly jwtKeyFile: string; readonly jwtKid: string; readonly jwtIssuer: string; readonly jwtAudience: string }): string {
  return (
    `401 (not verified): the gateway at ${gw.url} must trust the signer: its JWKS (ingest.jwt.jwksUrl) must list the public half of --jwt-key ${gw.jwtKeyFile} ` +
    `under kid "${gw.jwtKid}" (a load-test identity provider's key, not a player's), and --jwt-issuer "${gw.jwtIssuer}" must equal ingest.jwt.issuer. ` +
    `403 (refused): --jwt-audience "${gw.jwtAudience}" must be one of ingest.jwt.audience; each token's sub is its heartbeats' user_id, so a ` +
    "\"user_id: expected the token subject\" or \"no subject claim\" answer means the gateway reads another claim (ingest.gateway.subjectClaim). " +
    "With the stack's deploy smoke issuer (a P-256 key): --jwt-kid/--jwt-issuer/--jwt-audience are the stack outputs ingestSmokeKid/ingestSmokeIssuer/" +
    `ingestSmokeAudience, and it may write ${SMOKE_USER_PREFIX}* users only (403 "${SMOKE_REFUSAL_MESSAGE}").`
  );
}

/** One gateway lane: a batch becomes one request per player in it, sent concurrently. */
export class GatewayLane {
  constructor(
    private readonly baseUrl: string,
    private readonly tokenFor: (user: string) => string,
    private readonly maxPerRequest: number,
    private readonly timeoutMs: number,
  ) {}

  private async post(user: string, records: readonly LoadRecord[]): Promise<{ acked: LoadRecord[]; error?: Error }> {
    const url = `${this.baseUrl.replace(/\/+$/, "")}${INGEST_PATH}`;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.tokenFor(user)}` },
        body: gatewayRequestBody(records),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      if (res.status !== 200) return { acked: [], error: new GatewayRefusal(res.status, `POST ${url} for user ${user} returned HTTP ${res.status}, expected 200: ${text.slice(0, 300)}`) };
      const { acked, error } = countGatewayAcks(JSON.parse(text) as unknown, records.length);
      return acked === records.length ? { acked: [...records] } : { acked: [], error: new Error(`POST ${url} for user ${user}: ${error ?? "unknown"}`) };
    } catch (err) {
      return { acked: [], error: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  async send(records: readonly LoadRecord[]): Promise<SendResult> {
    const started = Date.now();
    const results = await Promise.all(requestsByUser(records, this.maxPerRequest).map((g) => this.post(g.user, g.records)));
    const ackedRecords = results.flatMap((r) => r.acked);
    const error = results.find((r) => r.error)?.error;
    const failed = records.length - ackedRecords.length;
    return { acked: ackedRecords.length, failed, ackedRecords, latencyMs: Date.now() - started, ...(error && failed > 0 ? { error } : {}) };
  }

  async close(): Promise<void> {}
}
