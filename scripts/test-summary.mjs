// Prints vitest's JSON result as one closing line CI can read: "tests: N passed, N failed, N skipped",
// preceded by each failure with the start of its message (CI logs are often read from the tail).
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
const rel = (name) => name.replace(`${process.cwd()}/`, '');
const brief = (msg) =>
  String(msg ?? '')
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => !/node_modules|node:internal|new Promise/.test(l))
    .slice(0, 12)
    .join('\n      ')
    .slice(0, 1500);
let nFailed = 0;
for (const f of r.testResults) {
  const failedTests = f.assertionResults.filter((a) => a.status === 'failed');
  for (const a of failedTests) {
    nFailed++;
    console.log(`  FAILED ${rel(f.name)} > ${a.fullName}\n      ${brief(a.failureMessages?.[0])}`);
  }
  // a file can fail with no failed test: it did not load, a hook failed, or an error escaped a test
  if (f.status === 'failed' && failedTests.length === 0) {
    nFailed++;
    // vitest's JSON keeps no message for a failed hook: its FAIL lines above have it
    console.log(
      `  FAILED FILE ${rel(f.name)}\n      ${brief(f.message) || 'a hook failed (see its FAIL line above)'}`,
    );
  }
}
console.log(
  `tests: ${r.numPassedTests} passed, ${nFailed} failed, ${r.numPendingTests + r.numTodoTests} skipped`,
);
process.exit(nFailed === 0 && r.numPassedTests > 0 ? 0 : 1);
