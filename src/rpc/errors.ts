/**
 * What an agent's JSON-RPC error becomes on the CLI side. Its own module so that
 * the CLI's error mapping (src/cli/errors.ts, loaded on every start) can recognise
 * it without loading the HTTP client.
 */

export interface RpcErrorData {
  /** StethError / PcapError code, e.g. 'ENOENT' */
  code: string;
  hint?: string;
  /** zod issues for -32602, detail for domain errors */
  issues?: unknown;
  detail?: unknown;
}

export class RpcError extends Error {
  override readonly name = 'RpcError';
  readonly code: number;
  readonly data: RpcErrorData | undefined;
  /** agent name the error came from */
  readonly agent: string | undefined;
  constructor(code: number, message: string, data?: RpcErrorData, agent?: string) {
    super(message);
    this.code = code;
    this.data = data;
    this.agent = agent;
  }
  get hint(): string | undefined {
    return this.data?.hint;
  }
}
