/**
 * `describeWithShared`: a describe block that needs ../shared. Without it the block is skipped with a message saying
 * why; under CI=true it fails instead, because CI must never pass by skipping its schema checks.
 */
import { describe, it } from "vitest";
import { isCi, SHARED_DIR, sharedMissingReason } from "./sharedRefs";

export function describeWithShared(name: string, body: () => void): void {
  const reason = sharedMissingReason();
  if (!reason) {
    describe(name, body);
    return;
  }
  if (isCi()) {
    describe(name, () => {
      it("has the reference files in ../shared", () => {
        throw new Error(`${name}: ${reason}. CI=true requires them; make ${SHARED_DIR} available to the CI job.`);
      });
    });
    return;
  }
  console.warn(`[skipped] ${name}: ${reason}. These checks run when ../shared is present (and fail under CI=true).`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}
