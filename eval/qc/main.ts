/** `npm run qc -- …`: see command.ts. Logs (pino JSON lines) on stdout, errors for people on stderr. */
import { createLogger } from '../../infra/log.ts';
import { qcCommand } from './command.ts';

qcCommand(process.argv.slice(2), { log: createLogger('info', 'qc'), stderr: (text) => process.stderr.write(text) })
  .then((code) => { process.exitCode = code; })
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
