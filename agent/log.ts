/**
 * One JSON object per line on stderr (journald keeps it). Values are passed
 * through `redact` so a token, password or Authorization header never reaches a
 * log line even if a caller puts one in the fields.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /token|password|secret|authorization|passwd|credential/i;

export type Logger = (level: Level, msg: string, fields?: Record<string, unknown>) => void;

export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEY.test(k)) out[k] = typeof v === 'boolean' ? v : '[redacted]';
    else if (typeof v === 'string') out[k] = v.replace(/Bearer\s+\S+/gi, 'Bearer [redacted]');
    else out[k] = v;
  }
  return out;
}

export function makeLogger(min: Level = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const floor = RANK[min] ?? RANK.info;
  return (level, msg, fields = {}) => {
    if (RANK[level] < floor) return;
    write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg, ...redact(fields) })}\n`);
  };
}
