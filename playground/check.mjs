// `npm run check`: tokenize the stored truth cases (snippets/outputs/playground.json, written
// by `llmdocs run playground`) with Tokenizers.js on the site's tokenizer files, compare them
// token by token with Python's, and write docs/assets/playground/js-check.json, which every
// `mkdocs build` compares with the stored Python output again.
import { readFileSync, writeFileSync } from "node:fs";
import { load, tokenize } from "./src/core.js";

const root = new URL("../", import.meta.url);
const assets = new URL("docs/assets/playground/", root);
const stored = JSON.parse(readFileSync(new URL("snippets/outputs/playground.json", root), "utf8"));
const lines = stored.cells.cases.outputs
  .filter((o) => o.stream === "stdout").map((o) => o.text.join("")).join("").split("\n");
const cases = lines.filter((l) => l.trim()).map((l) => JSON.parse(l));
const names = ["chat", "bert"];
const tokenizers = Object.fromEntries(names.map((name) => [
  name, load(JSON.parse(readFileSync(new URL(`${name}.tokenizer.json`, assets), "utf8"))),
]));
const version = JSON.parse(readFileSync(
  new URL("node_modules/@huggingface/tokenizers/package.json", import.meta.url), "utf8")).version;
let differences = 0;
const results = cases.map((c) => {
  const row = { case: c.case, text: c.text };
  for (const name of names) {
    row[name] = tokenize(tokenizers[name], c.text);
    const py = JSON.stringify(c[name]), js = JSON.stringify(row[name]);
    if (py !== js) {
      differences++;
      console.error(`DIFFERS ${c.case} ${name}\n  python ${py}\n  js     ${js}`);
    }
  }
  return row;
});
const out = { library: `@huggingface/tokenizers ${version}`, cases: results };
writeFileSync(new URL("js-check.json", assets), JSON.stringify(out) + "\n");
console.log(`${cases.length} cases × ${names.length} tokenizers: ${differences} differ`);
process.exit(differences ? 1 : 0);
