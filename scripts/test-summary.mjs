// Prints vitest's JSON result as one closing line CI can read: "tests: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let r;
try {
  r = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.log(`tests: no result file (${e.message})`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const failed = r.testResults.flatMap((f) =>
  f.assertionResults
    .filter((a) => a.status === 'failed')
    .map((a) => `${f.name.replace(`${process.cwd()}/`, '')} > ${a.fullName}`),
);
const suiteErrors = r.testResults
  .filter((f) => f.status === 'failed' && f.assertionResults.length === 0)
  .map((f) => f.name);
for (const f of failed) console.log(`  FAILED ${f}`);
for (const f of suiteErrors) console.log(`  FAILED TO LOAD ${f}: ${f.message ?? ''}`);
const nFailed = r.numFailedTests + suiteErrors.length;
console.log(
  `tests: ${r.numPassedTests} passed, ${nFailed} failed, ${r.numPendingTests + r.numTodoTests} skipped`,
);
process.exit(nFailed === 0 && r.numPassedTests > 0 ? 0 : 1);
