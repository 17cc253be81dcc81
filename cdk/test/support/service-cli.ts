import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** The crate's CLI: UNIFIED_LLM_BIN, else <repo>/target/debug/unified-llm. */
export const UNIFIED_LLM_BIN = process.env.UNIFIED_LLM_BIN
  ? path.resolve(process.env.UNIFIED_LLM_BIN)
  : path.join(REPO_ROOT, 'target', 'debug', 'unified-llm');

export const SECRET_PATH = '/ai-agent/llm-secrets/test';

/** Fail loudly when the binary is not there: these tests never pass without the real service. */
export function requireServiceBinary(): void {
  if (!fs.existsSync(UNIFIED_LLM_BIN)) {
    throw new Error(
      `The service CLI is missing at ${UNIFIED_LLM_BIN}. Build it with \`cargo build --bin unified-llm\` at the ` +
      'repository root (or set UNIFIED_LLM_BIN). The local Step Functions runs bind their Lambda tasks to this ' +
      'binary and cannot pass without it.');
  }
}

/** The error a Lambda task fails with: `name` is the service's errorType, as Step Functions sees it. */
export class ServiceError extends Error {
  constructor(readonly errorType: string, readonly errorMessage: string) {
    // Step Functions' Cause for a Lambda error is the error JSON; keep that shape.
    super(JSON.stringify({ errorType, errorMessage }));
    this.name = errorType;
  }
}

export interface CliRun {
  readonly event: any;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `unified-llm invoke -` with a local secrets file, as the Lambda would be invoked, and records
 * every run. A task handler for aws-local-stepfunctions: returns the unified response, or throws a
 * ServiceError named after the service's errorType.
 */
export class ServiceCli {
  readonly runs: CliRun[] = [];
  private active = 0;
  maxConcurrent = 0;
  private readonly dir: string;
  private readonly bin: string;
  private readonly env: NodeJS.ProcessEnv;

  /**
   * `secrets`: the local secrets file's content (secret path -> key name -> value); `env`: more settings
   * (table names, AWS_ENDPOINT_URL, ...).
   */
  constructor(options: { secrets?: Record<string, Record<string, string>>; env?: Record<string, string> } = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unified-llm-cdk-'));
    // Run a copy: the checkout is shared, and a cargo build elsewhere may replace the binary mid-test.
    this.bin = path.join(this.dir, path.basename(UNIFIED_LLM_BIN));
    fs.copyFileSync(UNIFIED_LLM_BIN, this.bin);
    fs.chmodSync(this.bin, 0o755);
    const secretsFile = path.join(this.dir, 'secrets.json');
    fs.writeFileSync(secretsFile, JSON.stringify(options.secrets ?? { [SECRET_PATH]: { OPENAI_API_KEY: 'sk-test' } }));
    this.env = {
      PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: os.tmpdir(),
      LLM_SECRETS_FILE: secretsFile,
      ALLOWED_SECRET_PREFIXES: '/ai-agent/llm-secrets/',
      ALLOWED_ENDPOINT_HOSTS: '127.0.0.1',
      AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true',
      ...options.env,
    };
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The runs whose last user message is `text`. */
  runsFor(text: string): CliRun[] {
    return this.runs.filter((r) => {
      const messages = r.event?.messages;
      return Array.isArray(messages) && messages[messages.length - 1]?.content === text;
    });
  }

  readonly handler = async (event: any): Promise<any> => {
    // Concurrency is counted as the state machine sees it (tasks in flight); the processes themselves
    // are then run a few at a time, so that a 2-core machine does not starve the service's own
    // time limits (its JSONata evaluation stops after 250 ms, and this is a debug build).
    this.active += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    const release = await this.slot();
    try {
      const run = await this.invoke(event);
      this.runs.push(run);
      if (run.exitCode === 0) return JSON.parse(run.stdout);
      if (run.exitCode === 2) {
        const failure = JSON.parse(run.stdout);
        throw new ServiceError(failure.errorType, failure.errorMessage);
      }
      throw new Error(`unified-llm invoke exited with ${run.exitCode}: ${run.stderr.slice(-2000)}`);
    } finally {
      release();
      this.active -= 1;
    }
  };

  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly parallelism = Math.max(1, Number(process.env.UNIFIED_LLM_PARALLELISM) || os.cpus().length);

  private async slot(): Promise<() => void> {
    if (this.running < this.parallelism) {
      this.running += 1;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve)); // handed over by a release
    }
    return () => {
      const next = this.waiting.shift();
      if (next) next(); else this.running -= 1;
    };
  }

  private invoke(event: any): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, ['invoke', '-'], { cwd: REPO_ROOT, env: this.env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ event, exitCode, stdout, stderr }));
      child.stdin.end(JSON.stringify(event));
    });
  }
}
