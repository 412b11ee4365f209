/**
 * A parser for the small subset of Python literals that NumPy writes into .npy headers
 * (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`): dicts, tuples, lists, strings,
 * integers (including Python 2's `3L`), True/False/None. Anything else is a syntax error.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export class PyLiteralError extends Error {}

export function parsePyLiteral(text: string): PyValue {
  const parser = new Parser(text);
  const value = parser.value();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail('unexpected text after the value');
  return value;
}

const CLOSERS: Record<string, string> = { '(': ')', '[': ']' };

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(problem: string): never {
    throw new PyLiteralError(`${problem} at character ${this.pos}`);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.pos])) this.pos++;
  }

  value(): PyValue {
    this.skipSpace();
    const char = this.text[this.pos];
    if (char === '{') return this.dict();
    if (char === '(' || char === '[') return this.sequence(CLOSERS[char]);
    if (char === "'" || char === '"') return this.string();
    if (char !== undefined && /[-+\d]/.test(char)) return this.integer();
    for (const [word, value] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail(this.atEnd() ? 'unexpected end' : `unexpected '${char}'`);
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== char) this.fail(`expected '${char}'`);
    this.pos++;
  }

  /** Reads `item, item, ...` up to `closer`, allowing a trailing comma. */
  private items(closer: string, item: () => void): void {
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === closer) break;
      item();
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== closer) this.fail(`expected ',' or '${closer}'`);
    }
    this.pos++;
  }

  private dict(): { [key: string]: PyValue } {
    const result: { [key: string]: PyValue } = {};
    this.items('}', () => {
      const key = this.value();
      if (typeof key !== 'string') this.fail('dict keys must be strings');
      this.expect(':');
      result[key] = this.value();
    });
    return result;
  }

  private sequence(closer: string): PyValue[] {
    const result: PyValue[] = [];
    this.items(closer, () => result.push(this.value()));
    return result;
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let result = '';
    while (this.text[this.pos] !== quote) {
      if (this.atEnd()) this.fail('unterminated string');
      if (this.text[this.pos] === '\\') this.pos++;
      result += this.text[this.pos++];
    }
    this.pos++;
    return result;
  }

  private integer(): number {
    const match = /^[-+]?\d+L?/.exec(this.text.slice(this.pos));
    if (!match) return this.fail('malformed number');
    this.pos += match[0].length;
    return Number.parseInt(match[0], 10);
  }
}
