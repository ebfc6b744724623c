/**
 * A throwaway certificate authority and one broker certificate, made with the system's openssl in a directory the
 * caller owns and removes: what Strimzi's cluster CA and a broker's certificate are on the cluster. The broker
 * certificate's only subject alternative name is the host name clients dial, so a client that verifies host names
 * (ssl.endpoint.identification.algorithm=https, Kafka's default) accepts it only under that name.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TlsMaterial {
  /** The CA certificate in PEM: the clients' trust store (Strimzi's `<cluster>-cluster-ca-cert` key `ca.crt`). */
  readonly caFile: string;
  /** The broker's PKCS#8 private key followed by its certificate, both PEM: a Kafka `ssl.keystore.type=PEM` file. */
  readonly brokerKeystoreFile: string;
}

/** Certificates made for one test run: a day is plenty and limits what a leaked temp dir could be used for. */
const VALID_DAYS = "1";

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync("openssl", [...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed (${e.stderr?.toString().trim() || e.message}); install openssl (Debian: openssl)`);
  }
}

/** Why TLS material cannot be made here, or undefined. */
export function missingOpenssl(): string | undefined {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "openssl not found on PATH (Debian: apt-get install openssl)";
  }
}

/** A CA and a broker certificate for `host` (SAN DNS:`host` only), under `dir`. */
export function makeBrokerTls(dir: string, host: string): TlsMaterial {
  const subj = (cn: string) => ["-subj", `/O=watchpipe test/CN=${cn}`];
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", VALID_DAYS, ...subj("watchpipe test cluster CA"),
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr", ...subj(host)], dir);
  writeFileSync(join(dir, "broker.ext"), `subjectAltName=DNS:${host}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  openssl(["x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "broker.crt", "-days", VALID_DAYS, "-extfile", "broker.ext"], dir);
  const key = readFileSync(join(dir, "broker.key"), "utf8");
  // Kafka's PEM key store reads PKCS#8 only; OpenSSL 1.1+ writes `-nodes` keys as PKCS#8 already.
  if (!key.includes("BEGIN PRIVATE KEY")) throw new Error(`openssl wrote ${join(dir, "broker.key")} in a format other than unencrypted PKCS#8; Kafka's PEM key store needs PKCS#8`);
  const brokerKeystoreFile = join(dir, "broker-keystore.pem");
  writeFileSync(brokerKeystoreFile, key + readFileSync(join(dir, "broker.crt"), "utf8"));
  const caFile = join(dir, "ca.crt");
  if (!existsSync(caFile)) throw new Error(`openssl made no ${caFile}`);
  return { caFile, brokerKeystoreFile };
}
