// Sum vitest JSON reports into the one line CI reads: "N passed, N failed".
// A report that is missing (its run crashed before writing) counts as one failure.
import { existsSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`no test report at ${file}: that run did not finish`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  if (report.success === false && report.numFailedTests === 0) {
    console.error(`${file}: a test file failed to load or a hook failed`);
    failed += 1;
  }
  if (report.numTotalTests === 0) {
    console.error(`${file}: the run executed no test`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
