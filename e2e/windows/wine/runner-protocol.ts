/**
 * What the Linux-side test and the Windows-side runner (rpc-runner.ts) exchange, as JSON files:
 * a plan of CSI calls in, their outcomes out.
 */

/** One CSI call; `listDir` asks the runner to list that (Windows) directory after the call. */
export interface RunnerStep {
  id: string;
  service: 'Identity' | 'Node';
  method: string;
  request: object;
  listDir?: string;
}

export interface RunnerPlan {
  /** The gRPC target of the node, `unix:\\.\pipe\NAME`. */
  address: string;
  /** How long the runner waits for Probe to answer ready before it gives up. */
  readyTimeoutMs: number;
  /** Deadline of each call. */
  callTimeoutMs: number;
  steps: RunnerStep[];
}

export interface StepResult {
  id: string;
  /** The gRPC status code; 0 = OK. -1 = the call failed without a gRPC status. */
  code: number;
  codeName: string;
  details: string;
  response?: unknown;
  ms: number;
  listing?: { dir: string; exists: boolean; files: string[]; notADirectory?: boolean };
}

export interface RunnerResult {
  platform: string;
  node: string;
  address: string;
  /** -1 when the node never became ready. */
  readyAfterMs: number;
  results: StepResult[];
  /** Set when the run stopped early (node never ready, runner crash). */
  error?: string;
}
