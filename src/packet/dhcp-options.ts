/**
 * Typed DHCP option values on top of the lossless option list: a code → codec table
 * (scapy's DHCPOptions) gives `dhcpGet(repr, 'routers')` on the read side and
 * `dhcpOption.routers([...])` on the build side. Repeated instances of one code are
 * concatenated before decoding (RFC 3396), and option overload (52) is honoured:
 * options carried in `file` and then `sname` are read too (RFC 2131 §4.1).
 */
import { WireError, malformed } from './errors.js';
import { DHCP_MESSAGE_TYPE, parseOptions } from './dhcp.js';
import type { DhcpOptionRaw, DhcpRepr } from './types.js';
import { enumName, hexByte, hexToBytes, readIp, readMac, readU16, readU32, toHex, writeIp, writeMac } from './util.js';

export interface ClientId {
  /** hardware type (1 = Ethernet) or 0 / 255 for other identifiers */
  type: number;
  /** the identifier bytes, hex */
  data: string;
  /** set when type is 1 and the identifier is 6 bytes */
  mac?: string;
}

export interface SubOption {
  code: number;
  data: string;
}

export interface ClasslessRoute {
  /** destination as a.b.c.d/len */
  dest: string;
  router: string;
}

interface OptionCodec<T> {
  code: number;
  name: string;
  decode(b: Uint8Array): T;
  encode(v: T): Uint8Array;
}

const td = new TextDecoder('utf-8');
const te = new TextEncoder();
/** builders' scratch area: one option value (≤ 255 bytes) at a time, synchronously */
const scratch = new Uint8Array(255);

function bad(code: number, why: string): WireError {
  return malformed('dhcp', -1, `option ${code} ${why}`);
}

const ip = (code: number, name: string): OptionCodec<string> => ({
  code,
  name,
  decode(b) {
    if (b.length !== 4) throw bad(code, `must be 4 bytes, is ${b.length}`);
    return readIp(b, 0);
  },
  encode(v) {
    const b = new Uint8Array(4);
    writeIp(v, b, 0, 'dhcp', name);
    return b;
  },
});

const ips = (code: number, name: string): OptionCodec<string[]> => ({
  code,
  name,
  decode(b) {
    if (b.length === 0 || b.length % 4 !== 0) throw bad(code, `must be a multiple of 4 bytes, is ${b.length}`);
    const out: string[] = [];
    for (let i = 0; i < b.length; i += 4) out.push(readIp(b, i));
    return out;
  },
  encode(v) {
    const b = new Uint8Array(v.length * 4);
    v.forEach((a, i) => writeIp(a, b, i * 4, 'dhcp', name));
    return b;
  },
});

const uintN = (code: number, name: string, bytes: 1 | 2 | 4): OptionCodec<number> => ({
  code,
  name,
  decode(b) {
    if (b.length !== bytes) throw bad(code, `must be ${bytes} bytes, is ${b.length}`);
    return bytes === 1 ? b[0]! : bytes === 2 ? readU16(b, 0) : readU32(b, 0);
  },
  encode(v) {
    const max = bytes === 4 ? 0xffffffff : (1 << (8 * bytes)) - 1;
    if (!Number.isInteger(v) || v < 0 || v > max) throw bad(code, `value ${v} out of range 0..${max}`);
    const b = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) b[i] = Math.floor(v / 2 ** (8 * (bytes - 1 - i))) & 255;
    return b;
  },
});

const str = (code: number, name: string): OptionCodec<string> => ({
  code,
  name,
  decode(b) {
    let n = b.length;
    while (n > 0 && b[n - 1] === 0) n--; // some clients NUL-terminate
    return td.decode(b.subarray(0, n));
  },
  encode(v) {
    if (typeof v !== 'string') throw bad(code, 'must be a string');
    return te.encode(v);
  },
});

const bytesList = (code: number, name: string): OptionCodec<number[]> => ({
  code,
  name,
  decode: (b) => Array.from(b),
  encode(v) {
    if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw bad(code, 'must be a list of bytes 0..255');
    return Uint8Array.from(v);
  },
});

const clientId: OptionCodec<ClientId> = {
  code: 61,
  name: 'clientId',
  decode(b) {
    if (b.length < 2) throw bad(61, `must be at least 2 bytes, is ${b.length}`);
    const v: ClientId = { type: b[0]!, data: toHex(b, 1, b.length) };
    if (b[0] === 1 && b.length === 7) v.mac = readMac(b, 1);
    return v;
  },
  encode(v) {
    if (v.mac !== undefined && v.data === undefined) {
      const b = new Uint8Array(7);
      b[0] = v.type;
      writeMac(v.mac, b, 1, 'dhcp', 'clientId');
      return b;
    }
    const d = hexToBytes(v.data, 'dhcp', 'clientId');
    const b = new Uint8Array(1 + d.length);
    b[0] = v.type;
    b.set(d, 1);
    return b;
  },
};

const subOptions = (code: number, name: string): OptionCodec<SubOption[]> => ({
  code,
  name,
  decode(b) {
    const out: SubOption[] = [];
    let p = 0;
    while (p < b.length) {
      if (p + 2 > b.length || p + 2 + b[p + 1]! > b.length) throw bad(code, `sub-option at ${p} runs past the end`);
      out.push({ code: b[p]!, data: toHex(b, p + 2, p + 2 + b[p + 1]!) });
      p += 2 + b[p + 1]!;
    }
    return out;
  },
  encode(v) {
    const parts = v.map((s) => hexToBytes(s.data, 'dhcp', `${name} sub-option ${s.code}`));
    const out = new Uint8Array(parts.reduce((n, d) => n + 2 + d.length, 0));
    let p = 0;
    v.forEach((s, i) => {
      const d = parts[i]!;
      if (d.length > 255) throw bad(code, 'sub-option longer than 255 bytes');
      out[p] = s.code;
      out[p + 1] = d.length;
      out.set(d, p + 2);
      p += 2 + d.length;
    });
    return out;
  },
});

/** RFC 1035 names with compression pointers relative to the option data (RFC 3397). */
const domainSearch: OptionCodec<string[]> = {
  code: 119,
  name: 'domainSearch',
  decode(b) {
    const out: string[] = [];
    let p = 0;
    while (p < b.length) {
      const labels: string[] = [];
      let q = p;
      let jumped = false;
      let hops = 0;
      for (;;) {
        if (q >= b.length) throw bad(119, 'name runs past the end');
        const len = b[q]!;
        if (len === 0) {
          if (!jumped) p = q + 1;
          break;
        }
        if ((len & 0xc0) === 0xc0) {
          if (q + 1 >= b.length) throw bad(119, 'pointer runs past the end');
          if (++hops > 64) throw bad(119, 'compression loop');
          if (!jumped) p = q + 2;
          jumped = true;
          q = ((len & 0x3f) << 8) | b[q + 1]!;
          continue;
        }
        if (len > 63) throw bad(119, `label length ${len}`);
        if (q + 1 + len > b.length) throw bad(119, 'label runs past the end');
        labels.push(td.decode(b.subarray(q + 1, q + 1 + len)));
        q += 1 + len;
      }
      out.push(labels.join('.'));
    }
    return out;
  },
  encode(v) {
    const parts: number[] = [];
    for (const name of v) {
      for (const label of name.split('.').filter((l) => l !== '')) {
        const l = te.encode(label);
        if (l.length > 63) throw bad(119, `label '${label}' longer than 63 bytes`);
        parts.push(l.length, ...l);
      }
      parts.push(0);
    }
    return Uint8Array.from(parts);
  },
};

/** RFC 3442: width, significant destination octets, router. */
const classlessRoutes: OptionCodec<ClasslessRoute[]> = {
  code: 121,
  name: 'classlessRoutes',
  decode(b) {
    const out: ClasslessRoute[] = [];
    let p = 0;
    while (p < b.length) {
      const width = b[p]!;
      if (width > 32) throw bad(121, `prefix length ${width}`);
      const sig = (width + 7) >> 3;
      if (p + 1 + sig + 4 > b.length) throw bad(121, 'route runs past the end');
      const d = [0, 0, 0, 0];
      for (let i = 0; i < sig; i++) d[i] = b[p + 1 + i]!;
      out.push({ dest: `${d.join('.')}/${width}`, router: readIp(b, p + 1 + sig) });
      p += 1 + sig + 4;
    }
    return out;
  },
  encode(v) {
    const parts: number[] = [];
    for (const r of v) {
      const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(r.dest);
      if (!m || Number(m[2]) > 32) throw bad(121, `'${r.dest}' is not a.b.c.d/len`);
      const width = Number(m[2]);
      const d = new Uint8Array(4);
      writeIp(m[1]!, d, 0, 'dhcp', 'classlessRoutes');
      const g = new Uint8Array(4);
      writeIp(r.router, g, 0, 'dhcp', 'classlessRoutes');
      parts.push(width, ...d.subarray(0, (width + 7) >> 3), ...g);
    }
    return Uint8Array.from(parts);
  },
};

/** The typed option table (name → codec). */
export const DHCP_OPTIONS = {
  subnetMask: ip(1, 'subnetMask'),
  timeOffset: uintN(2, 'timeOffset', 4),
  routers: ips(3, 'routers'),
  dnsServers: ips(6, 'dnsServers'),
  hostname: str(12, 'hostname'),
  domainName: str(15, 'domainName'),
  interfaceMtu: uintN(26, 'interfaceMtu', 2),
  broadcastAddress: ip(28, 'broadcastAddress'),
  ntpServers: ips(42, 'ntpServers'),
  vendorSpecific: { code: 43, name: 'vendorSpecific', decode: (b: Uint8Array) => toHex(b), encode: (v: string) => hexToBytes(v, 'dhcp', 'vendorSpecific') } as OptionCodec<string>,
  requestedIp: ip(50, 'requestedIp'),
  leaseTime: uintN(51, 'leaseTime', 4),
  overload: uintN(52, 'overload', 1),
  messageType: uintN(53, 'messageType', 1),
  serverId: ip(54, 'serverId'),
  paramRequestList: bytesList(55, 'paramRequestList'),
  message: str(56, 'message'),
  maxMessageSize: uintN(57, 'maxMessageSize', 2),
  renewalTime: uintN(58, 'renewalTime', 4),
  rebindingTime: uintN(59, 'rebindingTime', 4),
  vendorClassId: str(60, 'vendorClassId'),
  clientId,
  tftpServer: str(66, 'tftpServer'),
  bootfileName: str(67, 'bootfileName'),
  relayAgentInfo: subOptions(82, 'relayAgentInfo'),
  domainSearch,
  classlessRoutes,
} as const;

export type DhcpOptionName = keyof typeof DHCP_OPTIONS;
export type DhcpOptionValue<K extends DhcpOptionName> = ReturnType<(typeof DHCP_OPTIONS)[K]['decode']>;

const BY_CODE = new Map<number, OptionCodec<unknown>>(Object.values(DHCP_OPTIONS).map((c) => [c.code, c as OptionCodec<unknown>]));

/** Names for display, including codes without a typed codec. */
export const DHCP_OPTION_NAMES: Readonly<Record<number, string>> = {
  0: 'pad',
  255: 'end',
  ...Object.fromEntries(Object.values(DHCP_OPTIONS).map((c) => [c.code, c.name])),
  81: 'clientFqdn',
  93: 'clientArch',
  94: 'clientNdi',
  97: 'clientUuid',
  80: 'rapidCommit',
  145: 'forcerenewNonce',
  252: 'wpad',
};

/** The option areas in RFC 2131 order: options, then file, then sname when overloaded. */
export function dhcpOptionList(repr: DhcpRepr): DhcpOptionRaw[] {
  const out = [...repr.options];
  const ov = rawData(repr.options, 52);
  const overload = ov && ov.length === 1 ? ov[0]! : 0;
  const area = (text: string, rawHex: string | undefined, size: number): void => {
    const b = new Uint8Array(size);
    if (rawHex !== undefined) {
      try {
        b.set(hexToBytes(rawHex, 'dhcp', 'area').subarray(0, size));
      } catch {
        return;
      }
    } else for (let i = 0; i < text.length && i < size; i++) b[i] = text.charCodeAt(i) & 255;
    out.push(...parseOptions(b, 0, size).options);
  };
  if (overload & 1) area(repr.file, repr.fileRaw, 128);
  if (overload & 2) area(repr.sname, repr.snameRaw, 64);
  return out;
}

function rawData(options: readonly DhcpOptionRaw[], code: number): Uint8Array | undefined {
  let parts: string | undefined;
  for (const o of options) if (o.code === code) parts = (parts ?? '') + (o.data ?? '');
  if (parts === undefined) return undefined;
  try {
    return hexToBytes(parts, 'dhcp', `option ${code}`);
  } catch {
    return undefined;
  }
}

/** The bytes of an option (all instances concatenated, RFC 3396; overload honoured). */
export function dhcpOptionData(repr: DhcpRepr, code: number): Uint8Array | undefined {
  let hex: string | undefined;
  for (const o of repr.options) if (o.code === code) hex = (hex ?? '') + (o.data ?? '');
  const ov = repr.options.some((o) => o.code === 52);
  if (ov) {
    hex = undefined;
    for (const o of dhcpOptionList(repr)) if (o.code === code) hex = (hex ?? '') + (o.data ?? '');
  }
  if (hex === undefined) return undefined;
  return hexToBytes(hex, 'dhcp', `option ${code}`);
}

/** Typed value of a named option; undefined when absent; WireError when malformed. */
export function dhcpGet<K extends DhcpOptionName>(repr: DhcpRepr, name: K): DhcpOptionValue<K> | undefined {
  const c = DHCP_OPTIONS[name] as OptionCodec<unknown>;
  const b = dhcpOptionData(repr, c.code);
  return b === undefined ? undefined : (c.decode(b) as DhcpOptionValue<K>);
}

/** The DHCP message type (option 53), or undefined for plain BOOTP / a malformed option. */
export function dhcpMessageType(repr: DhcpRepr): number | undefined {
  for (const o of repr.options) if (o.code === 53) return o.data && o.data.length === 2 ? parseInt(o.data, 16) : undefined;
  return undefined;
}

/** 'DISCOVER', 'OFFER', ... or unknown(N). */
export function dhcpMessageTypeName(t: number | undefined): string {
  return t === undefined ? 'BOOTP' : enumName(DHCP_MESSAGE_TYPE, t);
}

export interface DescribedOption {
  code: number;
  name: string;
  /** typed value when a codec exists and the bytes parse, else the hex */
  value: unknown;
  /** hex bytes as on the wire */
  data?: string;
}

/** Every option with its name and typed value (pads and END omitted). */
export function describeDhcpOptions(repr: DhcpRepr): DescribedOption[] {
  const out: DescribedOption[] = [];
  for (const o of dhcpOptionList(repr)) {
    if (o.code === 0 || o.code === 255) continue;
    const c = BY_CODE.get(o.code);
    let value: unknown = o.data ?? '';
    if (c) {
      try {
        value = c.decode(hexToBytes(o.data ?? '', 'dhcp', 'option'));
      } catch {
        value = o.data ?? '';
      }
    }
    out.push({ code: o.code, name: DHCP_OPTION_NAMES[o.code] ?? `option${o.code}`, value, data: o.data ?? '' });
  }
  return out;
}

/** Split value bytes into options of at most 255 bytes each (RFC 3396). */
function toOptions(code: number, b: Uint8Array): DhcpOptionRaw[] {
  if (b.length <= 255) return [{ code, data: toHex(b) }];
  const out: DhcpOptionRaw[] = [];
  for (let i = 0; i < b.length; i += 255) out.push({ code, data: toHex(b, i, Math.min(b.length, i + 255)) });
  return out;
}

type Builders = { [K in DhcpOptionName]: (v: DhcpOptionValue<K>) => DhcpOptionRaw } & {
  /** build a client id: a MAC (type 1) or {type, data} */
  clientId(v: string | ClientId): DhcpOptionRaw;
  raw(code: number, hex: string): DhcpOptionRaw;
  pad(): DhcpOptionRaw;
  end(): DhcpOptionRaw;
  /** long values split into several instances (RFC 3396) */
  split<K extends DhcpOptionName>(name: K, v: DhcpOptionValue<K>): DhcpOptionRaw[];
};

function build(name: DhcpOptionName, v: unknown): DhcpOptionRaw[] {
  const c = DHCP_OPTIONS[name] as OptionCodec<unknown>;
  return toOptions(c.code, c.encode(v));
}

/** Option builders: dhcpOption.messageType(1), dhcpOption.clientId(mac), ... */
export const dhcpOption: Builders = (() => {
  const b: Record<string, unknown> = {};
  for (const name of Object.keys(DHCP_OPTIONS) as DhcpOptionName[]) {
    b[name] = (v: unknown) => {
      const opts = build(name, v);
      if (opts.length > 1) throw malformed('dhcp', -1, `${name} value is longer than 255 bytes; use dhcpOption.split`);
      return opts[0]!;
    };
  }
  b.clientId = (v: string | ClientId): DhcpOptionRaw => {
    if (typeof v === 'string') {
      scratch[0] = 1;
      writeMac(v, scratch, 1, 'dhcp', 'clientId');
      return { code: 61, data: toHex(scratch, 0, 7) };
    }
    return build('clientId', v)[0]!;
  };
  // fast paths for what every client frame carries (same bytes as the generic codecs)
  b.messageType = (v: number): DhcpOptionRaw => {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw bad(53, `value ${v} out of range 0..255`);
    return { code: 53, data: hexByte(v) };
  };
  b.maxMessageSize = (v: number): DhcpOptionRaw => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw bad(57, `value ${v} out of range 0..65535`);
    return { code: 57, data: hexByte(v >> 8) + hexByte(v & 255) };
  };
  // bytes into the scratch area, then one toHex
  b.paramRequestList = (v: number[]): DhcpOptionRaw => {
    if (!Array.isArray(v) || v.length > 255) throw bad(55, 'must be a list of at most 255 bytes');
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (!Number.isInteger(x) || x! < 0 || x! > 255) throw bad(55, 'must be a list of bytes 0..255');
      scratch[i] = x!;
    }
    return { code: 55, data: toHex(scratch, 0, v.length) };
  };
  b.hostname = (v: string): DhcpOptionRaw => {
    if (typeof v !== 'string') throw bad(12, 'must be a string');
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) return build('hostname', v)[0]!; // non-ASCII: UTF-8 via the generic codec
      scratch[i] = c; // (past 255 a no-op: refused below)
    }
    if (v.length > 255) throw bad(12, 'longer than 255 bytes');
    return { code: 12, data: toHex(scratch, 0, v.length) };
  };
  b.raw = (code: number, hex: string): DhcpOptionRaw => {
    hexToBytes(hex, 'dhcp', `option ${code}`);
    return { code, data: hex.toLowerCase() };
  };
  b.pad = (): DhcpOptionRaw => ({ code: 0 });
  b.end = (): DhcpOptionRaw => ({ code: 255 });
  b.split = (name: DhcpOptionName, v: unknown) => build(name, v);
  return b as Builders;
})();
