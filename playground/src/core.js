// What the playground computes, shared by the page (playground.js) and `npm run check`.
import { Tokenizer } from "@huggingface/tokenizers";

/** A Tokenizers.js tokenizer from an exported tokenizer.json (already parsed). */
export function load(tokenizerJson) {
  return new Tokenizer(tokenizerJson, { clean_up_tokenization_spaces: false });
}

/** Tokens and ids of `text`, without special tokens (as the chapters' chips). */
export function tokenize(tokenizer, text) {
  const { ids, tokens } = tokenizer.encode(text, { add_special_tokens: false });
  return { ids, tokens };
}

// Byte-level BPE writes each byte as a printable character (GPT-2's bytes_to_unicode):
// printable Latin-1 bytes as themselves, the rest from U+0100 on.
const BYTE_OF = new Map();
{
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    BYTE_OF.set(String.fromCodePoint(printable ? b : next++), b);
  }
}

/** The UTF-8 bytes behind a byte-level BPE token, or null when it is not one. */
export function tokenBytes(token) {
  const bytes = [];
  for (const char of token) {
    const b = BYTE_OF.get(char);
    if (b === undefined) return null;
    bytes.push(b);
  }
  return bytes;
}

/** Is this a byte-level BPE tokenizer (its pre-tokenizer or decoder is ByteLevel)? */
export function isByteLevel(tokenizerJson) {
  const kinds = JSON.stringify([tokenizerJson.pre_tokenizer, tokenizerJson.decoder]);
  return kinds.includes('"ByteLevel"');
}

/** Bytes of `text` in UTF-8. */
export function byteLength(text) {
  return new TextEncoder().encode(text).length;
}
