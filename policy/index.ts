/**
 * The watchpipe CrossGuard policy pack: `pulumi preview --policy-pack policy` (and `up`) fail on any violation.
 * The policies live in ./policies.ts (tested by test/policy*.test.ts); this file only registers them.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("watchpipe", {
  description: "Durability, transport security, image pinning, secret handling, authenticated and rate-limited ingest, and AWS hardening for the watchpipe heartbeat pipeline.",
  enforcementLevel: "mandatory",
  policies,
});
