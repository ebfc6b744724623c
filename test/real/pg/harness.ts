/**
 * A throwaway PostgreSQL 15 server for real-service tests and the report benchmark.
 *
 * It runs the Debian binaries from a temp directory, listens on 127.0.0.1 only on a free port, uses
 * scram-sha-256 over TCP (so clients exercise the password path like they would against YugabyteDB), and is
 * stopped and deleted by {@link PgServer.stop}. initdb refuses to run as root, so when we are root the server
 * runs as the `postgres` OS user (created by the Debian package) or, if that is absent, a dedicated system user.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, ClientConfig } from "pg";

/** Debian's PostgreSQL 15 layout; PG_BIN overrides it for other installs. */
export const DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin";
/** The OS user the Debian package creates; we reuse it rather than adding users to the machine. */
const DEBIAN_PG_OS_USER = "postgres";
/** Created only when the Debian user is missing (e.g. binaries installed some other way). */
const FALLBACK_PG_OS_USER = "watchpipe-pg";
/** Loopback only: tests never listen on, or send to, anything outside 127.0.0.0/8. */
export const PG_LISTEN_HOST = "127.0.0.1";
/** The superuser initdb creates; tests and the benchmark connect as it. */
export const PG_SUPERUSER = "postgres";
/** pg_ctl -w waits this long for startup/shutdown; a cold start on a busy 2-core box takes a few seconds. */
const PG_CTL_TIMEOUT_SEC = 60;

/**
 * Settings for a disposable server: durability off (fsync, synchronous_commit) because the data dir is deleted
 * afterwards anyway and the machine is shared; the rest are small enough for 2 cores / 24 GiB.
 */
const SERVER_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: PG_LISTEN_HOST,
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  shared_buffers: "256MB",
  max_connections: "50",
  // The report views and the benchmark define "day" in UTC; the server default must not hide a missing AT TIME ZONE.
  timezone: "America/Los_Angeles",
  log_min_messages: "warning",
};

export interface PgServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Database created for the caller (not `postgres`), empty at start. */
  readonly database: string;
  readonly dataDir: string;
  /** The server's log (what a YSQL tserver's postgres log would hold): tests check secrets never reach it. */
  readonly logFile: string;
  /** `pg` client config for {@link database} (or another database on the same server). */
  clientConfig(database?: string): ClientConfig;
  /** Connects a new client; the caller ends it. */
  connect(database?: string): Promise<Client>;
  /** Creates an empty database and returns its name. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown) and keeps its data: an outage, ended by {@link restart}. */
  shutdown(): void;
  /** Starts a server stopped by {@link shutdown} again, on the same port with the same data. */
  restart(): void;
  /** Stops the server (fast shutdown) and deletes its directory. Safe to call twice. */
  stop(): void;
}

export interface StartOptions {
  /** Name of the database to create. Default `watchpipe`. */
  readonly database?: string;
  /** Extra server settings (`-c key=value`), e.g. work_mem for the benchmark. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Serve TLS with this certificate and key (PEM), as YSQL does; plain connections keep working. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
}

/** Returns the directory with initdb/pg_ctl, or throws naming the package to install. */
export function findPgBin(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.PG_BIN ?? DEFAULT_PG_BIN;
  for (const tool of ["initdb", "pg_ctl", "postgres"]) {
    if (!existsSync(join(dir, tool))) {
      throw new Error(
        `PostgreSQL 15 binary ${join(dir, tool)} not found (expected initdb, pg_ctl and postgres in ${dir}). ` +
          "Install them with `apt-get install postgresql-15`, or set PG_BIN to the directory holding them.",
      );
    }
  }
  return dir;
}

/** Asks the kernel for a free TCP port on the loopback address. */
export async function freePort(host: string = PG_LISTEN_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error(`could not read the port of a probe socket on ${host}: got ${String(addr)}`));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

function osUserExists(name: string): boolean {
  return spawnSync("id", ["-u", name], { stdio: "ignore" }).status === 0;
}

/** The OS user to run the server as: ourselves when not root, otherwise a non-root account. */
function serverOsUser(): string | undefined {
  if (process.getuid === undefined || process.getuid() !== 0) return undefined;
  if (osUserExists(DEBIAN_PG_OS_USER)) return DEBIAN_PG_OS_USER;
  if (!osUserExists(FALLBACK_PG_OS_USER)) {
    execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_PG_OS_USER]);
  }
  return FALLBACK_PG_OS_USER;
}

function uidGid(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", user]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", user]).toString().trim());
  return { uid, gid };
}

/** Runs a PostgreSQL tool as `osUser` (via runuser) or as ourselves; throws with its output on failure. */
function runAs(osUser: string | undefined, cmd: string, args: readonly string[]): string {
  const [file, argv] = osUser === undefined ? [cmd, [...args]] : ["runuser", ["-u", osUser, "--", cmd, ...args]];
  const res = spawnSync(file, argv, { encoding: "utf8" });
  if (res.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited with ${res.status ?? res.signal}; expected 0.\n` +
        `stdout: ${res.stdout}\nstderr: ${res.stderr}`,
    );
  }
  return res.stdout;
}

/** Why no PostgreSQL 15 server can start here (its message names what to install), or null when one can. */
export function pgUnavailable(): string | null {
  try {
    findPgBin();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Starts a fresh server. Throws (after cleaning up) if any step fails, with the server log attached. */
export async function startPostgres(opts: StartOptions = {}): Promise<PgServer> {
  const bin = findPgBin();
  const osUser = serverOsUser();
  const root = mkdtempSync(join(tmpdir(), "watchpipe-pg-"));
  const dataDir = join(root, "data");
  const logFile = join(root, "server.log");
  const pwFile = join(root, "pwfile");
  const password = randomBytes(18).toString("base64url");
  const database = opts.database ?? "watchpipe";
  let started = false;

  const pgCtlStop = (): void => {
    runAs(osUser, join(bin, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-t", String(PG_CTL_TIMEOUT_SEC), "-w", "stop"]);
    started = false;
  };
  const cleanup = (): void => {
    if (started) {
      try {
        pgCtlStop();
      } catch (err) {
        process.stderr.write(`warning: stopping PostgreSQL in ${dataDir} failed: ${String(err)}\n`);
      }
      started = false;
    }
    rmSync(root, { recursive: true, force: true });
    process.removeListener("exit", cleanup);
  };
  // A crashed test or an interrupted benchmark must not leave a postgres running: stop it when Node exits
  // (cleanup is synchronous, as an 'exit' listener must be).
  process.on("exit", cleanup);

  try {
    writeFileSync(pwFile, password + "\n", { mode: 0o600 });
    if (osUser !== undefined) {
      const { uid, gid } = uidGid(osUser);
      chownSync(root, uid, gid);
      chownSync(pwFile, uid, gid);
    }
    runAs(osUser, join(bin, "initdb"), [
      "-D", dataDir, "-U", PG_SUPERUSER, "--pwfile", pwFile, "--auth-local=trust", "--auth-host=scram-sha-256",
      "--encoding=UTF8", "--locale=C", "--no-sync",
    ]);
    const port = await freePort();
    const tlsSettings: Record<string, string> = {};
    if (opts.tls !== undefined) {
      // The server refuses a key readable by others or owned by another user.
      const [cert, key] = [join(root, "server.crt"), join(root, "server.key")];
      writeFileSync(cert, opts.tls.certPem, { mode: 0o644 });
      writeFileSync(key, opts.tls.keyPem, { mode: 0o600 });
      if (osUser !== undefined) {
        const { uid, gid } = uidGid(osUser);
        chownSync(cert, uid, gid);
        chownSync(key, uid, gid);
      }
      Object.assign(tlsSettings, { ssl: "on", ssl_cert_file: cert, ssl_key_file: key });
    }
    const settings = { ...SERVER_SETTINGS, ...opts.settings, ...tlsSettings, port: String(port), unix_socket_directories: root };
    const serverArgs = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(" ");
    const pgCtlStart = (): void => {
      started = true;
      runAs(osUser, join(bin, "pg_ctl"), [
        "-D", dataDir, "-l", logFile, "-o", serverArgs, "-t", String(PG_CTL_TIMEOUT_SEC), "-w", "start",
      ]);
    };
    pgCtlStart();

    const clientConfig = (db: string = database): ClientConfig => ({
      host: PG_LISTEN_HOST, port, user: PG_SUPERUSER, password, database: db,
    });
    const connect = async (db?: string): Promise<Client> => {
      const c = new Client(clientConfig(db));
      await c.connect();
      return c;
    };
    const createDatabase = async (name: string): Promise<string> => {
      const admin = await connect("postgres");
      try {
        await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
      } finally {
        await admin.end();
      }
      return name;
    };
    await createDatabase(database);
    const server: PgServer = {
      host: PG_LISTEN_HOST, port, user: PG_SUPERUSER, password, database, dataDir, logFile,
      clientConfig, connect, createDatabase, stop: cleanup,
      shutdown: () => {
        if (started) pgCtlStop();
      },
      restart: () => {
        if (!started) pgCtlStart();
      },
    };
    return server;
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4000) : "(no server log)";
    cleanup();
    throw new Error(`starting PostgreSQL 15 from ${bin} failed: ${(err as Error).message}\nserver log tail:\n${log}`);
  }
}

/** Double-quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
