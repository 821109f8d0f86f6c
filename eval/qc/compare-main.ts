/** `npm run qc:compare -- …`: see compare.ts. Progress on stderr; the figures on stdout. */
import { qcCompareCommand } from './compare.ts';

qcCompareCommand(process.argv.slice(2), {
  progress: (m) => process.stderr.write(`[qc:compare] ${m}\n`),
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
})
  .then((code) => { process.exitCode = code; })
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
