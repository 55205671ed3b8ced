// Prints the slowest test files of a run with their wall time (set-up included), so a CI log
// shows where the minutes go. Plain CommonJS: Jest loads reporters without a transform.
class SlowestFilesReporter {
  constructor(_globalConfig, options = {}) {
    this.count = options.count ?? 15;
    this.files = [];
  }

  onTestResult(test, result) {
    const { start, end } = result.perfStats;
    this.files.push({ path: test.path.replace(`${process.cwd()}/`, ''), ms: end - start });
  }

  onRunComplete() {
    if (this.files.length === 0) return;
    const total = this.files.reduce((s, f) => s + f.ms, 0);
    const top = [...this.files].sort((a, b) => b.ms - a.ms).slice(0, this.count);
    const lines = top.map((f) => `  ${(f.ms / 1000).toFixed(1).padStart(7)} s  ${f.path}`);
    process.stderr.write(`\nSlowest test files (of ${this.files.length}, ${(total / 1000).toFixed(0)} s in all):\n${lines.join('\n')}\n`);
  }
}

module.exports = SlowestFilesReporter;
