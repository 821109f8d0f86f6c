/**
 * `npm run eval -- <name> --data <dir> [--json] [options]`: runs one evaluator on real data.
 * Progress goes to stderr; with --json the last line on stdout is one JSON object with the figures,
 * without it a readable table. Unknown evaluator or bad arguments / data folders: exit code 2.
 */
import { evaluators } from './index.ts';
import { UsageError } from './evaluator.ts';

function usage(): string {
  const lines = ['usage: npm run eval -- <name> --data <dir> [--json] [options]', 'evaluators:'];
  for (const [name, e] of Object.entries(evaluators)) {
    lines.push(`  ${name}: ${e.description}`);
    for (const u of e.usage.split('\n')) lines.push(`      ${u}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  const args = rest.filter((a) => a !== '--json');
  const evaluator = name !== undefined && Object.hasOwn(evaluators, name) ? evaluators[name] : undefined;
  if (!evaluator) {
    process.stderr.write(`${name === undefined || name.startsWith('-') ? 'no evaluator given' : `unknown evaluator "${name}"`}\n${usage()}`);
    process.exit(2);
  }
  const progress = (msg: string) => process.stderr.write(`[eval ${name}] ${msg}\n`);
  let result: Record<string, unknown>;
  try {
    result = await evaluator.run({ args, progress });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`eval ${name}: ${err.message}\n${usage()}`);
      process.exit(2);
    }
    throw err;
  }
  if (json) process.stdout.write(`${JSON.stringify({ eval: name, ...result })}\n`);
  else if (evaluator.table) process.stdout.write(evaluator.table(result));
  else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
