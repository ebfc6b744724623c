/**
 * `npx tsx ksql/cp-version.ts`: prints the Confluent Platform version the program deploys (contract/confluent.ts), so
 * ksql/run-vectors.sh (and through it .github/workflows/ksql-vectors.yml) tests the SQL on the same ksqlDB release.
 */
import { CP_VERSION } from "../contract/confluent";

process.stdout.write(`${CP_VERSION}\n`);
