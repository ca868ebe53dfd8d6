// Reads vitest's JSON report and prints the plain closing line CI reads:
// `tests: N passed, N failed, N skipped`. Exits 1 when any test failed or was skipped, or when
// the report is missing or counts no test at all (a run that tested nothing is not a pass).
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test/artifacts/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log(`tests: 0 passed, 0 failed, 0 skipped`);
  console.error(`test-summary: cannot read ${file}: ${error.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
for (const suite of report.testResults ?? []) {
  for (const test of suite.assertionResults ?? []) {
    if (test.status === 'failed') console.error(`FAILED  ${suite.name}: ${test.fullName}`);
    if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo') {
      console.error(`SKIPPED ${suite.name}: ${test.fullName}`);
    }
  }
  if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) {
    console.error(`FAILED  ${suite.name}: ${suite.message ?? 'the file failed to run'}`);
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || skipped > 0 || passed === 0 || report.success === false ? 1 : 0);
