/** The load generator's messages for the two mistakes a new user makes first: a wrong CA path, a silent listener. */
import { describe, expect, it } from "vitest";
import { connectionHint, readCaFile, withConnectionHint } from "../tools/loadgen/config";
import { kafkaClientConfig } from "../tools/loadgen/kafkaSender";
import { parseLoadgenArgs } from "../tools/loadgen/config";

describe("loadgen connection messages", () => {
  it("a missing --ca-file names the flag and its env var, not only ENOENT", () => {
    expect(() => readCaFile("/nonexistent.pem")).toThrowError(
      "--ca-file /nonexistent.pem (env LOADGEN_CA_FILE): cannot read the CA bundle (ENOENT). Pass the PEM of the cluster CA, e.g. " +
        "kubectl get secret <cluster>-cluster-ca-cert -o jsonpath='{.data.ca\\.crt}' | base64 -d > ca.pem",
    );
    expect(readCaFile("/ca.pem", () => "PEM")).toBe("PEM");
  });

  it.each([
    {
      cfg: { bootstrap: ["b1:9093"], tls: false, saslUsername: null },
      hint:
        "No answer from b1:9093: check the host and port are reachable from here (port-forward? NetworkPolicy?); TLS is off: a TLS listener (Strimzi: 9093) never answers plaintext; " +
        "add --tls/--ca-file, or use the plain listener (9092); no SCRAM user is set (a scram-sha-512 listener needs --sasl-username and LOADGEN_SASL_PASSWORD).",
    },
    {
      cfg: { bootstrap: ["b1:9093", "b2:9093"], tls: true, saslUsername: "loadgen" },
      hint:
        "No answer from b1:9093,b2:9093: check the host and port are reachable from here (port-forward? NetworkPolicy?); TLS is on: the port must be a TLS listener (Strimzi: 9093) and --ca-file its CA; SCRAM as loadgen.",
    },
  ])("a listener that never answers gets a hint (TLS $cfg.tls)", ({ cfg, hint }) => {
    expect(connectionHint(cfg)).toBe(hint);
  });

  it("the Kafka client reads the CA through the same check (the flag is named, not only ENOENT)", () => {
    const parsed = parseLoadgenArgs(["--bootstrap", "b1:9093", "--tls", "--ca-file", "/nonexistent.pem", "--count", "1"], {});
    if (parsed.help) throw new Error("unexpected --help");
    expect(() => kafkaClientConfig(parsed.config)).toThrowError("--ca-file /nonexistent.pem (env LOADGEN_CA_FILE): cannot read the CA bundle (ENOENT).");
  });

  it("a first connection that fails says what failed and adds the hint", async () => {
    const cfg = { bootstrap: ["b1:9093"], tls: true, saslUsername: "loadgen" };
    await expect(withConnectionHint(cfg, () => Promise.reject(new Error("Broker not connected")))).rejects.toThrowError(
      `cannot reach Kafka at b1:9093 (Broker not connected). ${connectionHint(cfg)}`,
    );
    // A connection failure, not a failed check: the tools exit 2 naming the endpoint (tools/cli.ts).
    await expect(withConnectionHint(cfg, () => Promise.reject(new Error("x")))).rejects.toMatchObject({ name: "ConnectionError", endpoint: "b1:9093" });
    await expect(withConnectionHint(cfg, () => Promise.resolve(7))).resolves.toBe(7);
  });
});
