/**
 * What `steth decode` runs (decode.ts declares the command and loads this on use):
 * pcap / pcapng bytes → one record per frame through the packet codecs. The pure
 * part is `decodeCaptureLines(bytes, opts)`.
 */
import { StethError } from '../../errors.js';
import { readPcap, type PcapFile } from '../../capture/pcapfile.js';
import { decodeFrame, registries, summarize, WireError, type DecodedFrame, type LayerName } from '../../packet/index.js';
import type { CheckResult } from '../../report/model.js';

export interface FrameRecord {
  no: number;
  /** capture time, ns since the epoch, decimal */
  tsNs: string;
  /** ISO-8601 with nanoseconds */
  time: string;
  caplen: number;
  len: number;
  linkType: number;
  layers: DecodedFrame['layers'];
  error?: { code: string; layer: string; offset: number; message: string };
  summary: string;
}

function isoNs(tsNs: bigint): string {
  const ms = Number(tsNs / 1000000n);
  const iso = new Date(ms).toISOString(); // ...ss.mmmZ
  return `${iso.slice(0, 19)}.${(tsNs % 1000000000n).toString().padStart(9, '0')}Z`;
}

/** Decode a captured frame according to the file's link type. Never throws. */
export function decodeByLinkType(bytes: Uint8Array, linkType: number): DecodedFrame {
  switch (linkType) {
    case 1:
      return decodeFrame(bytes);
    case 101:
    case 228:
      return decodeFrame(bytes, 'ipv4');
    case 113:
      // Linux cooked capture v1: 16-byte header, protocol at 14
      return decodeCooked(bytes, { layer: 'sll', name: 'Linux cooked header', headerLen: 16, protoAt: 14 });
    case 276:
      // Linux cooked capture v2 (tcpdump -i any): 20-byte header, protocol at 0
      return decodeCooked(bytes, { layer: 'sll2', name: 'Linux cooked v2 header', headerLen: 20, protoAt: 0 });
    default:
      return { layers: [{ layer: 'raw', data: Buffer.from(bytes).toString('hex') }], error: new WireError('UNSUPPORTED', 'pcap', 0, `link type ${linkType}`) };
  }
}

/** Every frame of a capture file as records. Throws StethError(EINVAL) for a file that is not a capture. */
export function decodeCapture(bytes: Uint8Array): { file: PcapFile; records: FrameRecord[] } {
  let file: PcapFile;
  try {
    file = readPcap(bytes);
  } catch (e) {
    if (e instanceof WireError) throw new StethError('EINVAL', `not a readable capture file: ${e.message}`, { hint: 'steth decode reads pcap and pcapng files' });
    throw e;
  }
  const records = file.frames.map((f, i): FrameRecord => {
    const lt = f.linkType ?? file.linkType;
    const d = decodeByLinkType(f.bytes, lt);
    const r: FrameRecord = { no: i + 1, tsNs: f.tsNs.toString(), time: isoNs(f.tsNs), caplen: f.caplen, len: f.len, linkType: lt, layers: d.layers, summary: summarize(d.layers, d.error) };
    if (d.error) r.error = d.error.toJSON();
    return r;
  });
  return { file, records };
}

/** The lines `steth decode` prints: human one-liners, or one JSON object per frame. */
export function decodeCaptureLines(bytes: Uint8Array, opts: { json?: boolean } = {}): string[] {
  const { file, records } = decodeCapture(bytes);
  const lines = records.map((r) => (opts.json ? JSON.stringify(r) : `${r.no} ${r.time} ${r.len}${r.caplen < r.len ? ` (${r.caplen} captured)` : ''} ${r.summary}`));
  if (file.error) {
    lines.push(opts.json ? JSON.stringify({ fileError: file.error.toJSON() }) : `# file: ${file.error.message}`);
  }
  return lines;
}

/** Table form for the shared renderers (-f table|json|csv|value without --json). */
export function decodeResult(path: string, bytes: Uint8Array): CheckResult {
  const { file, records } = decodeCapture(bytes);
  const bad = records.filter((r) => r.error).length;
  return {
    command: 'decode',
    ok: true,
    verdict: `${records.length} frames in ${path} (${file.format}, link type ${file.linkType})${bad ? `, ${bad} with decode errors` : ''}${file.error ? `; ${file.error.message}` : ''}`,
    tables: [{ columns: ['No', 'Time', 'Length', 'Summary'], rows: records.map((r) => ({ No: r.no, Time: r.time, Length: r.len, Summary: r.summary })) }],
    data: { format: file.format, linkType: file.linkType, frames: records },
  };
}

/** A Linux cooked capture (SLL v1/v2): skip its header, decode from the EtherType it names. */
function decodeCooked(bytes: Uint8Array, h: { layer: string; name: string; headerLen: number; protoAt: number }): ReturnType<typeof decodeFrame> {
  if (bytes.length < h.headerLen) return { layers: [], error: new WireError('TRUNCATED', h.layer, 0, `${h.name} is ${h.headerLen} bytes`) };
  const proto = (bytes[h.protoAt]! << 8) | bytes[h.protoAt + 1]!;
  const first: LayerName | undefined = registries.etherType.get(proto);
  if (!first) return { layers: [{ layer: 'raw', data: Buffer.from(bytes.subarray(h.headerLen)).toString('hex') }], error: new WireError('UNSUPPORTED', h.layer, h.protoAt, `protocol 0x${proto.toString(16)}`) };
  return decodeFrame(bytes.subarray(h.headerLen), first);
}
