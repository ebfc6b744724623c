/**
 * tools/report.ts: argument and environment parsing, TLS settings, and rendering (pure parts; the run against a
 * real PostgreSQL is in test/real/schema.test.ts).
 */
import { describe, expect, it } from "vitest";
import { clientConfig, HELP, parseCli, render, UsageError } from "../tools/report";

const ENV = { PGHOST: "yb.example.internal", PGUSER: "reporter" };

describe("report CLI parsing", () => {
  it("--help wins over everything", () => {
    expect(parseCli(["daily", "--help"], {})).toBe("help");
    expect(HELP).toContain("all days and hours are UTC");
  });

  it("resume: the report's user is --user-id; the database user comes from --username or PGUSER", () => {
    const inv = parseCli(["resume", "--user-id", "u-1", "--video", "v-2", "--limit", "3"], ENV);
    if (inv === "help") throw new Error("unexpected help");
    expect(inv.query.values).toEqual(["u-1", "v-2", 3]);
    expect(inv.connection).toMatchObject({ host: "yb.example.internal", port: 5433, database: "watchpipe", user: "reporter", sslMode: "disable", password: null });
    const flags = parseCli(["resume", "--user-id", "u-1", "--host", "h", "--port", "5432", "--dbname", "d", "--username", "me"], ENV);
    if (flags === "help") throw new Error("unexpected help");
    expect(flags.connection).toMatchObject({ host: "h", port: 5432, database: "d", user: "me" });
  });

  it("daily and hourly build their range queries", () => {
    const d = parseCli(["daily", "--from", "2026-11-01", "--to", "2026-11-02", "--video", "a", "--video", "b"], ENV);
    if (d === "help") throw new Error("unexpected help");
    expect(d.query.values).toEqual(["2026-11-01", "2026-11-02", ["a", "b"]]);
    const h = parseCli(["hourly", "--video", "a", "--from", "2026-11-01", "--to", "2026-11-01", "--format", "csv"], ENV);
    if (h === "help") throw new Error("unexpected help");
    expect(h.format).toBe("csv");
    expect(h.query.values).toEqual(["a", "2026-11-01", "2026-11-01"]);
  });

  it("the password comes from PGPASSWORD or a file, never from a flag", () => {
    const inv = parseCli(["daily", "--from", "2026-11-01", "--to", "2026-11-01"], { ...ENV, PGPASSWORD: "pw" });
    if (inv === "help") throw new Error("unexpected help");
    expect(inv.connection.password).toEqual({ from: "env", value: "pw" });
    const f = parseCli(["daily", "--from", "2026-11-01", "--to", "2026-11-01", "--password-file", "/run/pw"], ENV);
    if (f === "help") throw new Error("unexpected help");
    expect(f.connection.password).toEqual({ from: "file", path: "/run/pw" });
    expect(() => parseCli(["daily", "--password", "pw"], ENV)).toThrow(/Unknown option '--password'/);
  });

  it.each([
    [[], ENV, /expected exactly one report \(resume, daily, hourly\), got none/],
    [["weekly"], ENV, /report must be one of resume, daily, hourly, got "weekly"/],
    [["resume"], ENV, /--user-id is required/],
    [["daily", "--from", "2026-11-01", "--to", "2026-11-01"], { PGUSER: "x" }, /--host is required \(or set PGHOST\)/],
    [["daily", "--from", "2026-11-01", "--to", "2026-11-01"], { PGHOST: "h" }, /--username is required \(or set PGUSER\)/],
    [["daily", "--to", "2026-11-01"], ENV, /--from is required/],
    [["hourly", "--from", "2026-11-01", "--to", "2026-11-01"], ENV, /hourly takes exactly one --video, got 0/],
    [["daily", "--from", "2026-11-01", "--to", "2026-11-01", "--port", "99999"], ENV, /--port\/PGPORT must be 1\.\.65535, got "99999"/],
    [["daily", "--from", "2026-11-01", "--to", "2026-11-01", "--sslmode", "verify-full"], ENV, /needs the CA: pass --sslrootcert/],
    [["daily", "--from", "2026-11-01", "--to", "2026-11-01", "--sslmode", "prefer"], ENV, /--sslmode\/PGSSLMODE must be one of disable, require, verify-ca, verify-full, got "prefer"/],
    [["resume", "--user-id", "u", "--limit", "ten"], ENV, /--limit must be a positive integer, got "ten"/],
  ] as Array<[string[], NodeJS.ProcessEnv, RegExp]>)("rejects %j with a message naming the problem", (argv, env, error) => {
    expect(() => parseCli(argv, env)).toThrow(error);
  });

  it("a CA file alone turns on verify-full (YugabyteDB is TLS)", () => {
    const inv = parseCli(["daily", "--from", "2026-11-01", "--to", "2026-11-01"], { ...ENV, PGSSLROOTCERT: "/ca.crt" });
    if (inv === "help") throw new Error("unexpected help");
    expect(inv.connection.sslMode).toBe("verify-full");
  });
});

describe("report CLI connection config", () => {
  const base = { host: "h", port: 5433, database: "d", user: "u", password: null, sslMode: "disable" as const };
  const files: Record<string, string> = { "/pw": "secret\n", "/ca.crt": "-----BEGIN CERTIFICATE-----" };
  const read = (p: string): string => {
    const v = files[p];
    if (v === undefined) throw new Error("ENOENT");
    return v;
  };

  it("maps sslmode to node-postgres TLS options", () => {
    expect(clientConfig(base, read).ssl).toBe(false);
    expect(clientConfig({ ...base, sslMode: "require" }, read).ssl).toMatchObject({ rejectUnauthorized: false });
    expect(clientConfig({ ...base, sslMode: "verify-full", sslRootCert: "/ca.crt" }, read).ssl).toEqual({ rejectUnauthorized: true, ca: files["/ca.crt"] });
    const vca = clientConfig({ ...base, sslMode: "verify-ca", sslRootCert: "/ca.crt" }, read).ssl as { checkServerIdentity: () => unknown };
    expect(vca.checkServerIdentity()).toBeUndefined();
  });

  it("reads the password file (trimmed) and names a missing file", () => {
    expect(clientConfig({ ...base, password: { from: "file", path: "/pw" } }, read).password).toBe("secret");
    expect(() => clientConfig({ ...base, password: { from: "file", path: "/nope" } }, read)).toThrow(UsageError);
    expect(() => clientConfig({ ...base, password: { from: "file", path: "/nope" } }, read)).toThrow(/cannot read --password-file \/nope/);
  });
});

describe("report CLI rendering", () => {
  const rows = [{ day_utc: "2026-11-20", video_id: "v,1", watched_sec: 12.25, viewers: "3" }];
  const cols = ["day_utc", "video_id", "watched_sec", "viewers"];
  it("aligns a text table", () => {
    expect(render(rows, cols, "table")).toBe(
      "day_utc     video_id  watched_sec  viewers\n----------  --------  -----------  -------\n2026-11-20  v,1       12.3         3\n");
  });
  it("quotes CSV fields that need it", () => {
    expect(render(rows, cols, "csv")).toBe('day_utc,video_id,watched_sec,viewers\n2026-11-20,"v,1",12.3,3\n');
  });
  it("prints JSON lines", () => {
    expect(render(rows, cols, "json")).toBe(`${JSON.stringify(rows[0])}\n`);
    expect(render([], cols, "json")).toBe("");
  });
});
