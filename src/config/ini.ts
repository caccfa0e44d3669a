/**
 * A small INI reader in the oslo.config dialect the original steth.conf uses:
 * `[section]`, `key = value` / `key=value` / `key: value`, `#` and `;` comments,
 * indented lines continue the previous value, keys before any section belong to
 * DEFAULT. Every value remembers its line so errors can say file:line:key.
 */
import { StethError } from '../errors.js';
import { printable } from '../validate.js';

export interface IniValue {
  value: string;
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
  entries: Map<string, IniValue>;
}

export interface IniFile {
  path: string;
  sections: Map<string, IniSection>;
}

export function parseIni(text: string, path: string): IniFile {
  const sections = new Map<string, IniSection>();
  const def: IniSection = { name: 'DEFAULT', line: 0, entries: new Map() };
  sections.set('DEFAULT', def);
  let cur = def;
  let last: { key: string; v: IniValue } | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      if (trimmed === '') last = undefined;
      continue;
    }
    if (/^\s/.test(raw) && last && !/[=:]/.test(trimmed)) {
      last.v.value = `${last.v.value}\n${trimmed}`;
      continue;
    }
    if (trimmed.startsWith('[')) {
      const m = /^\[\s*([^\]]+?)\s*\]$/.exec(trimmed);
      if (!m) throw new StethError('ECONFIG', `${path}:${lineNo}: malformed section header '${printable(trimmed)}'`, { hint: 'expected [name]' });
      const name = m[1]!.replace(/\s+/g, ' ');
      const existing = sections.get(name);
      if (existing && name !== 'DEFAULT') {
        throw new StethError('ECONFIG', `${path}:${lineNo}: section [${printable(name)}] appears twice (first at line ${existing.line})`);
      }
      cur = existing ?? { name, line: lineNo, entries: new Map() };
      sections.set(name, cur);
      last = undefined;
      continue;
    }
    const m = /^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$/.exec(trimmed);
    if (!m) throw new StethError('ECONFIG', `${path}:${lineNo}: expected 'key = value', got '${printable(trimmed)}'`);
    const key = m[1]!.trim();
    let value = m[2]!;
    // strip an inline comment that follows whitespace (oslo keeps '#' inside values otherwise)
    value = value.replace(/\s+[#;].*$/, '').trim();
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1);
    const prev = cur.entries.get(key);
    if (prev) throw new StethError('ECONFIG', `${path}:${lineNo}:${key}: set twice in [${cur.name}] (first at line ${prev.line})`);
    const v: IniValue = { value, line: lineNo };
    cur.entries.set(key, v);
    last = { key, v };
  }
  return { path, sections };
}

/** An ECONFIG error pointing at file:line:key. */
export function configError(file: IniFile | string, v: IniValue | undefined, key: string, message: string, hint?: string): StethError {
  const path = typeof file === 'string' ? file : file.path;
  const where = v === undefined ? `${path}:${key}` : `${path}:${v.line}:${key}`;
  return new StethError('ECONFIG', `${where}: ${message}`, hint === undefined ? {} : { hint });
}
