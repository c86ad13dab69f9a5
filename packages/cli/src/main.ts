import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, CommanderError, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import {
  JobName,
  JobVersion,
  type JobOutputList,
  type ResourcePoolList,
  type Session,
  type TrainingJob,
  type TrainingJobConfig,
  type TrainingJobConfigList,
  type TrainingJobList,
} from '@tc/contracts';
import { Api, normalizeUrl, resolveConnection } from './client.js';
import { configFile, removeLogin, saveLogin } from './config.js';
import { completionScript } from './completion.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { assertAttempt, assertNode, followToEnd, jobPath, printLog, type JobRef } from './follow.js';
import { execInNode } from './exec.js';
import { colorsFor, formatBytes, formatDuration, formatTime, processIo, statusColor, table, type Io } from './io.js';
import { checkJobFile, checkSpec, EXAMPLE_JOB_FILE, formatProblems, type CheckedJob } from './job-file.js';

export const VERSION = '0.1.0';

type Format = 'table' | 'json' | 'yaml';
interface GlobalOpts {
  url?: string;
  token?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];
const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table');
const setOption = () =>
  new Option('--set <field=value>', 'override a field, repeatable (env.NAME=value sets a variable)').argParser(collect).default([]);

function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/** NAME/VERSION (or NAME alone where the latest version will do), checked by the API's own rules. */
function parseRef(ref: string, needVersion: boolean): { name: string; version?: string } {
  const [name = '', version, extra] = ref.split('/');
  const n = JobName.safeParse(name);
  if (!n.success || extra !== undefined)
    throw new CliError(`${ref}: expected NAME/VERSION, e.g. linreg/V001 (${n.error?.issues[0]?.message ?? 'too many "/"'})`, EXIT.USAGE);
  if (version === undefined) {
    if (needVersion) throw new CliError(`${ref}: give the version too, e.g. ${name}/V001`, EXIT.USAGE);
    return { name };
  }
  const v = JobVersion.safeParse(version);
  if (!v.success) throw new CliError(`${ref}: ${v.error.issues[0]?.message ?? 'bad version'}`, EXIT.USAGE);
  return { name, version };
}

async function resolveRef(api: Api, ref: string, needVersion = false): Promise<JobRef> {
  const r = parseRef(ref, needVersion);
  if (r.version) return { name: r.name, version: r.version };
  // The list is newest first and `name` filters by substring: the first exact match is the latest.
  const list = await api.json<TrainingJobList>('GET', `/training-jobs?${new URLSearchParams({ name: r.name, pageSize: '100' })}`);
  const latest = list.items.find((j) => j.name === r.name);
  if (!latest) throw new CliError(`training job ${r.name} does not exist`, EXIT.NOT_FOUND);
  return { name: latest.name, version: latest.version };
}

function emit(io: Io, format: Format, value: unknown, human: () => string): void {
  if (format === 'json') io.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else if (format === 'yaml') io.stdout.write(toYaml(value));
  else io.stdout.write(human());
}

function readJobFile(file: string, io: Io, sets: string[]): CheckedJob & { text: string } {
  const full = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, EXIT.USAGE);
  }
  return { ...checkJobFile(text, io.env, sets), text };
}

function requireValid(file: string, checked: CheckedJob): NonNullable<CheckedJob['request']> {
  if (checked.request) return checked.request;
  const n = checked.problems.length;
  throw new CliError(`${formatProblems(file, checked.problems)}\n${n} problem${n === 1 ? '' : 's'}; nothing was submitted`, EXIT.INVALID);
}

async function submitted(io: Io, api: Api, job: TrainingJob, follow: boolean, node = 0): Promise<ExitCode> {
  io.stdout.write(`${job.name}/${job.version}\n`);
  if (!follow) {
    io.stderr.write(`submitted (${job.status}); follow it with: trainctl logs ${job.name}/${job.version} -f\n`);
    return EXIT.OK;
  }
  return followToEnd(api, job, node, io);
}

function jobDetails(job: TrainingJob, io: Io): string {
  const c = colorsFor(io.stdout, io.env);
  const s = job.spec;
  const rows: [string, string][] = [
    ['Name', job.name],
    ['Version', job.version],
    ['Status', statusColor(c, job.status) + (job.queuePosition ? ` (position ${job.queuePosition} in the queue)` : '')],
    ['Reason', job.reason ? job.reason + (job.failureClass ? ` (${job.failureClass})` : '') : '-'],
    ['Description', job.description ?? '-'],
    ['Image', s.algorithm.imagePath + (job.imageId ? ` (${job.imageId.slice(0, 19)})` : '')],
    ['Code', s.algorithm.codeDir],
    ['Boot command', s.algorithm.bootCommand],
    ['Data', s.data.source === 'path' ? s.data.path : `dataset ${s.data.datasetId} ${s.data.version}`],
    ['Output', s.trainOutput],
    ['Resources', s.resources ? `${s.resources.pool || 'public'} ${s.resources.flavor} x ${s.resources.nodes}` : '-'],
    ['Created', formatTime(job.createdAt)],
    ['Started', formatTime(job.startedAt)],
    ['Ended', formatTime(job.endedAt)],
    ['Duration', formatDuration(job.startedAt, job.endedAt)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  let out = rows.map(([k, v]) => `${c.bold(k.padEnd(w))}  ${v}`).join('\n') + '\n';
  if (job.attempts?.length) {
    out +=
      `\n${c.bold(`Attempts (${job.attempt ?? 1} of ${job.maxAttempts ?? 1})`)}\n` +
      job.attempts
        .map((a) => {
          const how = a.reason ? `${a.reason}${a.failureClass ? ` (${a.failureClass})` : ''}` : '';
          return `  ${a.attempt}  ${statusColor(c, a.status)}  ${formatTime(a.startedAt)}  ${formatDuration(a.startedAt, a.endedAt)}${how ? '  ' + how : ''}`;
        })
        .join('\n') +
      '\n';
  }
  if (job.events.length) {
    out += `\n${c.bold('Events')}\n` + job.events.map((e) => `  ${formatTime(e.at)}  ${e.type}  ${e.message}`).join('\n') + '\n';
  }
  return out;
}

function jobTable(list: TrainingJobList, io: Io): string {
  const c = colorsFor(io.stdout, io.env);
  if (list.items.length === 0) return 'no training jobs\n';
  return table(
    ['NAME', 'VERSION', 'STATUS', 'FLAVOR', 'NODES', 'CREATED', 'DURATION'],
    list.items.map((j) => [
      j.name,
      j.version,
      statusColor(c, j.status) + (j.queuePosition ? ` #${j.queuePosition}` : ''),
      j.flavor,
      String(j.nodes),
      formatTime(j.createdAt),
      formatDuration(j.startedAt, j.endedAt),
    ]),
    io.stdout,
    c,
  );
}

/** Reads the token without echoing it on a terminal, or the first line of piped input. */
async function readToken(io: Io): Promise<string> {
  const stdin = io.stdin;
  if (!stdin.isTTY || !stdin.setRawMode) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return (text.split(/\r?\n/)[0] ?? '').trim();
  }
  io.stderr.write("API token (create one on the console's Account page): ");
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let token = '';
      const onData = (d: Buffer | string) => {
        for (const ch of String(d)) {
          if (ch === '\r' || ch === '\n') {
            stdin.removeListener('data', onData);
            io.stderr.write('\n');
            return resolve(token.trim());
          }
          if (ch === '\u0003') {
            stdin.removeListener('data', onData);
            return reject(new CliError('cancelled', EXIT.ERROR));
          }
          token = ch === '\u007f' ? token.slice(0, -1) : token + ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

async function download(api: Api, ref: JobRef, list: JobOutputList, dir: string, io: Io): Promise<void> {
  const root = path.resolve(io.cwd, dir);
  const progress = Boolean(io.stderr.isTTY);
  const total = list.items.reduce((a, f) => a + f.size, 0);
  let done = 0;
  let last = 0;
  const show = (i: number, key: string, force = false) => {
    if (!progress || (!force && Date.now() - last < 100)) return;
    last = Date.now();
    const pct = total ? Math.floor((done / total) * 100) : 100;
    io.stderr.write(`\r\x1b[2K[${i + 1}/${list.items.length}] ${pct}% ${formatBytes(done)}/${formatBytes(total)}  ${key}`);
  };
  for (const [i, f] of list.items.entries()) {
    const dest = path.resolve(root, f.key);
    // The server refuses such keys already; a file outside the folder asked for is never written.
    if (!dest.startsWith(root + path.sep)) throw new CliError(`output ${f.key} would be written outside ${dir}; skipped all`, EXIT.ERROR);
    mkdirSync(path.dirname(dest), { recursive: true });
    const res = await api.download(`${jobPath(ref)}/outputs/${f.key.split('/').map(encodeURIComponent).join('/')}`);
    if (!res.body) throw new CliError(`output ${f.key}: the console sent no body`, EXIT.UNAVAILABLE);
    const tmp = `${dest}.trainctl-part`;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        show(i, f.key);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), count, createWriteStream(tmp));
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new CliError(`output ${f.key}: download failed: ${(err as Error).message}`, EXIT.UNAVAILABLE);
    }
    renameSync(tmp, dest);
    show(i, f.key, true);
  }
  if (progress) io.stderr.write('\r\x1b[2K');
  io.stderr.write(`downloaded ${list.items.length} file${list.items.length === 1 ? '' : 's'} (${formatBytes(total)}) to ${dir}\n`);
}

export function buildProgram(io: Io, result: { code: ExitCode }): Command {
  const program = new Command('trainctl');
  program
    .description('Submit, follow and fetch training jobs of a training console from a terminal or CI.')
    .version(VERSION)
    .option('--url <url>', 'console address (default: TRAINCTL_URL, then the saved login)')
    .option('--token <token>', 'API token (default: TRAINCTL_TOKEN, then the saved login)')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 unexpected error, 2 bad usage, 3 invalid job file or request, 4 not signed in
or token refused, 5 not found, 6 refused (conflict or budget), 7 console or store unavailable,
8 followed job failed, 9 followed job stopped.

Examples:
  $ trainctl login --url http://127.0.0.1:8080
  $ trainctl init && trainctl run job.yaml --follow
`,
    );

  const api = (cmd: Command) => new Api(resolveConnection(cmd.optsWithGlobals<GlobalOpts>(), io.env));
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<ExitCode | void>) =>
    async (...args: A) => {
      result.code = (await fn(...args)) ?? EXIT.OK;
    };

  examples(
    program
      .command('login')
      .description('check a token against the console and keep it in your config folder (mode 0600)')
      .action(
        act(async (_opts: unknown, cmd: Command) => {
          const g = cmd.optsWithGlobals<GlobalOpts>();
          const url = normalizeUrl(g.url ?? io.env.TRAINCTL_URL ?? '');
          if (!url) throw new CliError('login: give the console address with --url http://host:8080', EXIT.USAGE);
          const token = g.token ?? io.env.TRAINCTL_TOKEN ?? (await readToken(io));
          if (!token) throw new CliError('login: no token given', EXIT.USAGE);
          const session = await new Api({ url, token }).json<Session>('GET', '/auth/session');
          const file = saveLogin(io.env, { url, token });
          io.stderr.write(`signed in to ${url} as ${session.user.username}; token saved in ${file}\n`);
        }),
      ),
    [
      'trainctl login --url http://127.0.0.1:8080',
      'echo "$TOKEN" | trainctl login --url https://console.example.com',
      'trainctl login --url http://127.0.0.1:8080 --token "$TRAINCTL_TOKEN"',
    ],
  );

  examples(
    program
      .command('logout')
      .description('forget the saved token')
      .action(
        act(async () => {
          io.stderr.write(removeLogin(io.env) ? `removed ${configFile(io.env)}\n` : 'not signed in\n');
        }),
      ),
    ['trainctl logout'],
  );

  examples(
    program
      .command('init')
      .argument('[file]', 'file to write', 'job.yaml')
      .option('-f, --force', 'overwrite an existing file')
      .description('write a commented example job file')
      .action(
        act(async (file: string, opts: { force?: boolean }) => {
          const full = path.resolve(io.cwd, file);
          if (existsSync(full) && !opts.force) throw new CliError(`${file} exists; add --force to overwrite it`, EXIT.USAGE);
          writeFileSync(full, EXAMPLE_JOB_FILE);
          io.stderr.write(`wrote ${file}; edit it, check it with \`trainctl validate ${file}\`, then \`trainctl run ${file} --follow\`\n`);
        }),
      ),
    ['trainctl init', 'trainctl init jobs/train.yaml'],
  );

  examples(
    program
      .command('validate')
      .argument('<file>', 'job file (YAML)')
      .addOption(setOption())
      .description('check a job file against the API contract, offline; names each bad field with its line')
      .action(
        act(async (file: string, opts: { set: string[] }) => {
          const checked = readJobFile(file, io, opts.set);
          requireValid(file, checked);
          io.stderr.write(`${file}: valid\n`);
        }),
      ),
    ['trainctl validate job.yaml', 'trainctl validate job.yaml --set resources.nodes=2'],
  );

  examples(
    program
      .command('run')
      .argument('<file>', 'job file (YAML)')
      .addOption(setOption())
      .option('-f, --follow', 'stream the log until the job ends; exit 0 only if it is Successful')
      .option('--node <index>', 'with --follow, the node whose log is streamed', '0')
      .description('submit a job file; prints NAME/VERSION')
      .action(
        act(async (file: string, opts: { set: string[]; follow?: boolean; node: string }, cmd: Command) => {
          const node = assertNode(opts.node);
          const request = requireValid(file, readJobFile(file, io, opts.set));
          const a = api(cmd);
          // A retried submit (lost answer) must not make a second version: the key makes it a replay.
          const job = await a.json<TrainingJob>('POST', '/training-jobs', request, { 'idempotency-key': `trainctl-${randomUUID()}` });
          return submitted(io, a, job, Boolean(opts.follow), node);
        }),
      ),
    [
      'trainctl run job.yaml',
      'EPOCHS=30 trainctl run job.yaml --follow',
      'trainctl run job.yaml --set env.EPOCHS=30 --set resources.nodes=2 -f',
    ],
  );

  examples(
    program
      .command('ls')
      .description('list training jobs, newest first')
      .option('--name <text>', 'only names containing this text')
      .addOption(
        new Option('--status <status>', 'only jobs in this status').choices([
          'Initializing',
          'Queuing',
          'Running',
          'Successful',
          'Running failed',
          'Stopping',
          'Stopped',
        ]),
      )
      .option('--limit <n>', 'at most this many (1-100)', '20')
      .option('-w, --watch', 'redraw every few seconds until interrupted')
      .option('--interval <seconds>', 'with --watch, seconds between redraws', '2')
      .addOption(outputOption())
      .action(
        act(
          async (
            opts: { name?: string; status?: string; limit: string; watch?: boolean; interval: string; output: Format },
            cmd: Command,
          ) => {
            const a = api(cmd);
            const q = new URLSearchParams({ pageSize: opts.limit });
            if (opts.name) q.set('name', opts.name);
            if (opts.status) q.set('status', opts.status);
            const interval = Math.max(1, Number(opts.interval) || 2) * 1000;
            for (;;) {
              const list = await a.json<TrainingJobList>('GET', `/training-jobs?${q}`);
              if (opts.watch && io.stdout.isTTY) io.stdout.write('\x1b[H\x1b[2J');
              emit(io, opts.output, list, () => jobTable(list, io));
              if (!opts.watch) return;
              await new Promise((r) => setTimeout(r, interval));
            }
          },
        ),
      ),
    ['trainctl ls', 'trainctl ls --status Running --watch', 'trainctl ls --name linreg -o json'],
  );

  examples(
    program
      .command('get')
      .argument('<job>', 'NAME/VERSION, or NAME for its latest version')
      .addOption(outputOption())
      .description('show one job: status, reason, spec and events')
      .action(
        act(async (ref: string, opts: { output: Format }, cmd: Command) => {
          const a = api(cmd);
          const job = await a.json<TrainingJob>('GET', jobPath(await resolveRef(a, ref)));
          emit(io, opts.output, job, () => jobDetails(job, io));
        }),
      ),
    ['trainctl get linreg', 'trainctl get linreg/V002 -o yaml'],
  );

  examples(
    program
      .command('logs')
      .argument('<job>', 'NAME/VERSION, or NAME for its latest version')
      .option('--node <index>', 'node index of a distributed job', '0')
      .option('--attempt <n>', 'which run of a retried job (1 for the first); default the latest')
      .option('-f, --follow', 'keep streaming until the job ends')
      .description("print a job's log (one node's)")
      .action(
        act(async (ref: string, opts: { node: string; attempt?: string; follow?: boolean }, cmd: Command) => {
          const a = api(cmd);
          const job = await resolveRef(a, ref);
          const node = assertNode(opts.node);
          const attempt = opts.attempt === undefined ? undefined : assertAttempt(opts.attempt);
          if (opts.follow) return followToEnd(a, job, node, io, attempt);
          await printLog(a, job, node, false, io, { attempt });
        }),
      ),
    ['trainctl logs linreg', 'trainctl logs linreg/V003 --node 1 -f', 'trainctl logs linreg/V004 --attempt 1'],
  );

  examples(
    program
      .command('exec')
      .argument('<job>', 'NAME/VERSION, or NAME for its latest version')
      .argument('[cmd...]', 'a command to run instead of a shell (after --)')
      .option('--node <index>', 'node index of a distributed job', '0')
      .description("a shell (or a command) in a running node, as UID 1101 with the node's environment; exits with its exit code")
      .action(
        act(async (ref: string, cmd: string[], opts: { node: string }, command: Command) => {
          const conn = resolveConnection(command.optsWithGlobals<GlobalOpts>(), io.env);
          const job = await resolveRef(new Api(conn), ref);
          // The remote command's status, as `docker exec` returns it (the console's own codes are for refusals).
          return (await execInNode(conn, job, assertNode(opts.node), cmd, io)) as ExitCode;
        }),
      ),
    ['trainctl exec linreg', 'trainctl exec linreg/V002 --node 1 -- nvidia-smi', "trainctl exec linreg -- sh -c 'ls outputs'"],
  );

  examples(
    program
      .command('stop')
      .argument('<job>', 'NAME/VERSION, or NAME for its latest version')
      .description('stop a job (SIGTERM, then SIGKILL after the grace period; outputs are still uploaded)')
      .action(
        act(async (ref: string, _opts: unknown, cmd: Command) => {
          const a = api(cmd);
          const job = await a.json<TrainingJob>('POST', `${jobPath(await resolveRef(a, ref))}/stop`);
          io.stderr.write(`${job.name}/${job.version} ${job.status}\n`);
        }),
      ),
    ['trainctl stop linreg/V002'],
  );

  examples(
    program
      .command('rm')
      .argument('<job>', 'NAME/VERSION (the version is required)')
      .description('delete a job that has ended (its files in object storage stay)')
      .action(
        act(async (ref: string, _opts: unknown, cmd: Command) => {
          const a = api(cmd);
          const job = await resolveRef(a, ref, true);
          await a.json('DELETE', jobPath(job));
          io.stderr.write(`deleted ${job.name}/${job.version}\n`);
        }),
      ),
    ['trainctl rm linreg/V001'],
  );

  examples(
    program
      .command('outputs')
      .argument('<job>', 'NAME/VERSION, or NAME for its latest version')
      .option('-d, --download <dir>', 'download every output file into this folder (keeping sub-folders)')
      .addOption(outputOption())
      .description('list the files a job wrote to its Training Output Path, or download them all')
      .action(
        act(async (ref: string, opts: { download?: string; output: Format }, cmd: Command) => {
          const a = api(cmd);
          const job = await resolveRef(a, ref);
          const list = await a.json<JobOutputList>('GET', `${jobPath(job)}/outputs`);
          if (opts.download) return download(a, job, list, opts.download, io);
          const c = colorsFor(io.stdout, io.env);
          emit(io, opts.output, list, () =>
            list.items.length === 0
              ? `no files in ${list.path}\n`
              : table(
                  ['KEY', 'SIZE'],
                  list.items.map((f) => [f.key, formatBytes(f.size)]),
                  io.stdout,
                  c,
                ),
          );
        }),
      ),
    ['trainctl outputs linreg/V001', 'trainctl outputs linreg/V001 --download ./model'],
  );

  examples(
    program
      .command('rerun')
      .argument('<job>', 'NAME/VERSION, or NAME for its latest version')
      .addOption(setOption())
      .option('-f, --follow', 'stream the log until the job ends')
      .description('submit the next version of a job from its stored spec; prints NAME/VERSION')
      .action(
        act(async (ref: string, opts: { set: string[]; follow?: boolean }, cmd: Command) => {
          const a = api(cmd);
          const job = await a.json<TrainingJob>('GET', jobPath(await resolveRef(a, ref)));
          const spec: Record<string, unknown> = { ...job.spec };
          // Saving parameters happened with the first run; a rerun must not fail on the existing name.
          delete spec.saveConfig;
          const hidden = (job.spec.env ?? []).filter((v) => v.secret && !opts.set.some((s) => s.startsWith(`env.${v.name}=`)));
          if (hidden.length) {
            throw new CliError(
              `the API never shows secret values: give ${hidden.map((v) => `--set env.${v.name}=…`).join(' ')} to rerun`,
              EXIT.USAGE,
            );
          }
          const checked = checkSpec(spec, opts.set);
          const request = requireValid(`${job.name}/${job.version}`, checked);
          const created = await a.json<TrainingJob>('POST', '/training-jobs', request, { 'idempotency-key': `trainctl-${randomUUID()}` });
          return submitted(io, a, created, Boolean(opts.follow));
        }),
      ),
    ['trainctl rerun linreg/V001', 'trainctl rerun linreg/V001 --set env.EPOCHS=50 --follow'],
  );

  const params = program.command('params').description('saved Job Parameters (parameter sets)');
  examples(params, ['trainctl params ls', 'trainctl params run linreg-params --job-name linreg -f']);
  examples(
    params
      .command('ls')
      .option('--name <text>', 'only names containing this text')
      .addOption(outputOption())
      .description('list saved parameter sets')
      .action(
        act(async (opts: { name?: string; output: Format }, cmd: Command) => {
          const q = new URLSearchParams({ pageSize: '100' });
          if (opts.name) q.set('name', opts.name);
          const list = await api(cmd).json<TrainingJobConfigList>('GET', `/training-job-configs?${q}`);
          const c = colorsFor(io.stdout, io.env);
          emit(io, opts.output, list, () =>
            list.items.length === 0
              ? 'no saved parameter sets\n'
              : table(
                  ['NAME', 'IMAGE', 'FROM JOB', 'UPDATED', 'DESCRIPTION'],
                  list.items.map((p) => [
                    p.name,
                    p.parameters.algorithm.imagePath,
                    p.sourceJob ? `${p.sourceJob.name}/${p.sourceJob.version}` : '-',
                    formatTime(p.updatedAt),
                    p.description ?? '',
                  ]),
                  io.stdout,
                  c,
                ),
          );
        }),
      ),
    ['trainctl params ls --name linreg'],
  );
  examples(
    params
      .command('get')
      .argument('<name>', 'parameter set name')
      .addOption(outputOption().default('yaml'))
      .description('show one parameter set')
      .action(
        act(async (name: string, opts: { output: Format }, cmd: Command) => {
          const set = await api(cmd).json<TrainingJobConfig>('GET', `/training-job-configs/${encodeURIComponent(name)}`);
          emit(io, opts.output === 'table' ? 'yaml' : opts.output, set, () => '');
        }),
      ),
    ['trainctl params get linreg-params', 'trainctl params get linreg-params -o json'],
  );
  examples(
    params
      .command('run')
      .argument('<name>', 'parameter set name')
      .requiredOption('--job-name <name>', 'name of the job to create (its next version)')
      .option('--description <text>', "the job's description (default: the set's)")
      .option('-f, --follow', 'stream the log until the job ends')
      .description('create a job from a saved parameter set; prints NAME/VERSION')
      .action(
        act(async (name: string, opts: { jobName: string; description?: string; follow?: boolean }, cmd: Command) => {
          const a = api(cmd);
          const body: Record<string, string> = { jobName: opts.jobName };
          if (opts.description !== undefined) body.description = opts.description;
          const job = await a.json<TrainingJob>('POST', `/training-job-configs/${encodeURIComponent(name)}/jobs`, body);
          return submitted(io, a, job, Boolean(opts.follow));
        }),
      ),
    ['trainctl params run linreg-params --job-name linreg --follow'],
  );

  examples(
    program
      .command('pools')
      .addOption(outputOption())
      .description('resource pools with their flavors and free capacity')
      .action(
        act(async (opts: { output: Format }, cmd: Command) => {
          const list = await api(cmd).json<ResourcePoolList>('GET', '/resource-pools');
          const c = colorsFor(io.stdout, io.env);
          emit(io, opts.output, list, () =>
            table(
              ['POOL', 'NAME', 'FREE vCPU', 'FREE MEMORY', 'FREE GPU', 'QUEUED', 'FLAVORS'],
              list.items.map((p) => [
                p.id,
                p.name,
                `${p.free.vcpus}/${p.capacity.vcpus}`,
                `${p.free.memoryGiB}/${p.capacity.memoryGiB} GiB`,
                `${p.free.gpus}/${p.capacity.gpus}`,
                String(p.queued),
                p.flavors.map((f) => f.id).join(', '),
              ]),
              io.stdout,
              c,
            ),
          );
        }),
      ),
    ['trainctl pools', 'trainctl pools -o json'],
  );

  examples(
    program
      .command('completion')
      .argument('<shell>', 'bash or zsh')
      .description('print a shell completion script')
      .action(
        act(async (shell: string) => {
          if (shell !== 'bash' && shell !== 'zsh') throw new CliError(`completion: ${shell} is not supported (bash or zsh)`, EXIT.USAGE);
          io.stdout.write(completionScript(program, shell));
        }),
      ),
    ['source <(trainctl completion bash)', 'trainctl completion zsh > "${fpath[1]}/_trainctl"'],
  );

  return program;
}

/** Runs one command line; returns the exit code instead of exiting, so tests can call it in process. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const result: { code: ExitCode } = { code: EXIT.OK };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, successfully.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const c = colorsFor(io.stderr, io.env);
    if (err instanceof CliError) {
      io.stderr.write(`${c.red('error:')} ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`${c.red('error:')} ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.ERROR;
  }
}
