/**
 * `npx tsx ksql/write-vectors.ts [case ...]`: (re)writes ksql/tests/<case>/output.json from input.json through the
 * reference model, in ksql-test-runner's format (DOUBLE fields as `1.0`). Review the diff: an output is only
 * right once the real engine agrees (ksql/run-vectors.sh) and the rows read as the semantics say.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../contract/sessionization";
import { loadVectors, runVectorThroughModel, VECTORS_DIR, vectorFileText } from "./vectors";

const only = new Set(process.argv.slice(2));
for (const v of loadVectors()) {
  if (only.size > 0 && !only.has(v.name)) continue;
  const outputs = runVectorThroughModel(v.inputs, DEFAULT_SESSIONIZATION_PARAMS);
  const file = path.join(VECTORS_DIR, v.name, "output.json");
  const text = vectorFileText({ outputs });
  const before = existsSync(file) ? readFileSync(file, "utf8") : "";
  if (before !== text) {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${v.name}/output.json (${outputs.length} records)\n`);
  }
}
