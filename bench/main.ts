/**
 * `npm run bench -- <name> [--json] [options]`: runs one benchmark. Progress goes to stderr;
 * with --json the last line on stdout is one JSON object with the figures.
 */
import { benchmarks } from './index.ts';

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  const args = rest.filter((a) => a !== '--json');
  const bench = name ? benchmarks[name] : undefined;
  if (!bench) {
    process.stderr.write(`usage: npm run bench -- <name> [--json]\nbenchmarks: ${Object.keys(benchmarks).join(', ')}\n`);
    process.exit(2);
  }
  const progress = (msg: string) => process.stderr.write(`[bench ${name}] ${msg}\n`);
  const result = await bench.run({ args, progress });
  if (json) process.stdout.write(`${JSON.stringify({ bench: name, ...result })}\n`);
  else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
