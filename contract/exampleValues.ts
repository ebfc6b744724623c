/**
 * The committed stacks carry example values where only the deploying organisation knows the real one: its admin
 * role, its office CIDRs, its certificate, its player IdP, its image repository. They are written in the reserved
 * documentation forms (AWS's documentation accounts, RFC 2606 domains, RFC 5737 TEST-NET ranges), so they can be
 * recognised: a run against a real cloud refuses them before anything is created, naming every key at once,
 * instead of failing halfway through a deploy on a role, certificate or repository that does not exist.
 */

/**
 * Set to `allow` where no real cloud is reached (the mock runs of tests, `plan` and `render`): the committed stacks'
 * example values are then accepted (config.ts loadConfig).
 */
export const EXAMPLE_VALUES_ENV = "WATCHPIPE_EXAMPLE_VALUES";

/** AWS's documentation account ids (the IAM and ECR guides' examples). */
export const EXAMPLE_ACCOUNTS: readonly string[] = ["111122223333", "123456789012", "444455556666"];
/** RFC 2606 example domains (and the `.example` TLD). */
const EXAMPLE_DOMAIN = /(^|[/.@])example\.(com|net|org)(?=$|[/:])|\.example(?=$|[/:])/i;
/** RFC 5737 documentation ranges: TEST-NET-1/2/3. */
const TEST_NETS: readonly string[] = ["192.0.2.", "198.51.100.", "203.0.113."];

/** What makes `value` an example, or undefined. */
export function exampleIn(value: string): string | undefined {
  const account = EXAMPLE_ACCOUNTS.find((a) => new RegExp(`(^|\\D)${a}(\\D|$)`).test(value));
  if (account) return `AWS's documentation account ${account}`;
  if (EXAMPLE_DOMAIN.test(value)) return "an RFC 2606 example domain";
  const net = TEST_NETS.find((n) => value.startsWith(n));
  if (net) return `the RFC 5737 documentation range ${net}0/24`;
  return undefined;
}

/** One problem per string in the raw `watchpipe:*` config that is an example value, keyed like every config error. */
export function exampleValueProblems(raw: Readonly<Record<string, unknown>>, namespace: string, stack: string): string[] {
  const out: string[] = [];
  const walk = (value: unknown, key: string): void => {
    if (typeof value === "string") {
      const what = exampleIn(value);
      if (what) out.push(`${namespace}:${key}: ${JSON.stringify(value)} is an example (${what}), committed so previews under mocks and tests run; a real deploy needs your own value: expected your organisation's; replace it in Pulumi.${stack}.yaml (README "Before a real deploy").`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${key}[${i}]`));
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, `${key}.${k}`);
    }
  };
  for (const [k, v] of Object.entries(raw)) walk(v, k);
  return out;
}
