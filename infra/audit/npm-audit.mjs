// The runtime dependencies' known vulnerabilities: `npm audit --omit=dev`, failing on any high or
// critical advisory (exit 1, each listed). When the registry's advisory endpoint cannot be reached
// or refuses the request, that is said plainly on stderr and the exit code is 0, or 2 with --strict.
//
//   node infra/audit/npm-audit.mjs [--strict]
import { spawnSync } from 'node:child_process';

const strict = process.argv.includes('--strict');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const r = spawnSync(npm, ['audit', '--omit=dev', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
let report;
try {
  report = JSON.parse(r.stdout);
} catch {
  report = undefined;
}
if (!report || report.error || !report.metadata) {
  const why = report?.error?.summary || report?.message || report?.error?.code || (r.stderr.trim().split('\n').filter((l) => /error/i.test(l)).at(-1) || `npm audit exited ${r.status}`);
  console.error(`npm-audit: NOT AUDITED: the registry's advisory endpoint did not answer (${why})`);
  process.exit(strict ? 2 : 0);
}
const counts = report.metadata.vulnerabilities ?? {};
const serious = Object.values(report.vulnerabilities ?? {}).filter((v) => v.severity === 'high' || v.severity === 'critical');
console.error(`npm-audit: ${report.metadata.dependencies?.prod ?? '?'} runtime dependencies; advisories: ${JSON.stringify(counts)}`);
for (const v of serious) {
  const via = v.via.map((x) => (typeof x === 'string' ? x : `${x.title} ${x.url ?? ''}`.trim())).join('; ');
  console.error(`  ${v.severity}: ${v.name} ${v.range} — ${via}${v.fixAvailable ? ' (fix available)' : ''}`);
}
process.exit(serious.length > 0 ? 1 : 0);
