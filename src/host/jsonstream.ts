/** JSON texts out of a byte stream that carries several, back to back. */
import { StethError } from '../errors.js';

/**
 * Splits a stream of concatenated JSON texts (what an OVSDB peer sends, no delimiter
 * between messages; what `ip -json -batch -` prints, one array per command) into
 * complete texts, chunk by chunk, scanning each byte once.
 * Tracks string/escape state and the open brackets, so a `}` inside a string is not an
 * end and a `]` closing a `{` is an error rather than a wait for more.
 */
export class JsonTextSplitter {
  #buf = '';
  #scanned = 0;
  /** closing bracket expected for each open one */
  #open: number[] = [];
  #inString = false;
  #escaped = false;

  /** Feed a chunk; returns the texts it completed (possibly none). */
  push(chunk: string): string[] {
    const texts: string[] = [];
    this.#buf += chunk;
    let start = 0;
    const buf = this.#buf;
    for (let i = this.#scanned; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === 0x5c /* \ */) this.#escaped = true;
        else if (c === 0x22 /* " */) this.#inString = false;
      } else if (c === 0x22) {
        this.#inString = true;
      } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (this.#open.length === 0) start = i;
        this.#open.push(c + 2); // '}' and ']' are 2 past their openers
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (this.#open.pop() !== c) throw new StethError('ETOOL', 'unbalanced JSON in the stream');
        if (this.#open.length === 0) {
          texts.push(buf.slice(start, i + 1));
          start = i + 1;
        }
      } else if (this.#open.length === 0 && c > 0x20) {
        throw new StethError('ETOOL', `a JSON stream of objects carried '${buf[i]}' between them`);
      }
    }
    // keep only the unfinished text (whitespace between texts is dropped)
    this.#buf = this.#open.length === 0 ? '' : buf.slice(start);
    this.#scanned = this.#buf.length;
    return texts;
  }
}
