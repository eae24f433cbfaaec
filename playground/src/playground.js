// The playground itself, loaded on first open: tokenizes the text box's content with
// Tokenizers.js on the tokenizer files served next to this bundle, and draws the tokens.
import { byteLength, isByteLevel, load, tokenBytes, tokenize } from "./core.js";
import STYLE from "./playground.css";

const MAX_CHIPS = 2000;
const cache = new Map(); // tokenizer URL → Promise of { tokenizer, byteLevel }

function tokenizerAt(url) {
  if (!cache.has(url)) {
    cache.set(url, fetch(url).then((response) => {
      if (!response.ok) throw new Error(`${response.status} ${url}`);
      return response.json();
    }).then((json) => ({ tokenizer: load(json), byteLevel: isByteLevel(json) })));
    cache.get(url).catch(() => cache.delete(url)); // let a later try fetch again
  }
  return cache.get(url);
}

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key]);
}

function hex(bytes) {
  return bytes.map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
}

function chip(token, id, bytes, strings) {
  const item = document.createElement("li");
  const text = document.createElement("span");
  text.className = "llmdocs-playground__token";
  text.textContent = token;
  const number = document.createElement("span");
  number.className = "llmdocs-playground__id";
  number.textContent = String(id);
  item.append(text, number);
  item.title = `id ${id}`;
  if (bytes) {
    const shown = document.createElement("span");
    shown.className = "llmdocs-playground__bytes";
    shown.textContent = hex(bytes);
    item.append(shown);
    item.title += ` · ${strings.bytes} ${hex(bytes)}`;
  }
  return item;
}

function mount(root) {
  if (!document.getElementById("llmdocs-playground-style")) {
    const style = document.createElement("style");
    style.id = "llmdocs-playground-style";
    style.textContent = STYLE;
    document.head.append(style);
  }
  const strings = JSON.parse(root.dataset.strings);
  const box = root.querySelector("textarea");
  const select = root.querySelector("select");
  const stats = root.querySelector(".llmdocs-playground__stats");
  const chips = root.querySelector(".llmdocs-playground__chips");
  let generation = 0;

  async function update() {
    const mine = ++generation;
    const name = select.value;
    const text = box.value;
    root.dataset.state = "loading";
    let loaded;
    try {
      const pending = tokenizerAt(`${root.dataset.base}${name}.tokenizer.json`);
      if (!root.dataset.loaded?.includes(name)) stats.textContent = strings.loading;
      loaded = await pending;
    } catch (error) {
      if (mine === generation) {
        stats.textContent = strings.failed + error.message;
        root.dataset.state = "failed";
      }
      return;
    }
    if (mine !== generation) return;
    root.dataset.loaded = `${root.dataset.loaded || ""} ${name}`;
    const { ids, tokens } = tokenize(loaded.tokenizer, text);
    // A pasted book must not freeze the page: the counts cover all, the chips the first part.
    const items = tokens.slice(0, MAX_CHIPS).map((token, i) =>
      chip(token, ids[i], loaded.byteLevel ? tokenBytes(token) : null, strings));
    if (tokens.length > MAX_CHIPS) {
      const more = document.createElement("li");
      more.className = "llmdocs-playground__more";
      more.textContent = `+${tokens.length - MAX_CHIPS}`;
      items.push(more);
    }
    chips.replaceChildren(...items);
    stats.textContent = format(strings.stats, {
      tokens: ids.length, bytes: byteLength(text), chars: [...text].length,
    });
    root.dataset.state = "ready";
    root.dataset.tokenizer = name;
  }

  let frame = 0;
  box.addEventListener("input", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(update);
  });
  select.addEventListener("change", update);
  root.querySelectorAll("button[data-text]").forEach((button) => {
    button.addEventListener("click", () => { box.value = button.dataset.text; update(); });
  });
  // For the browser tests: the same tokenization the page shows, on any text.
  root.llmdocsTokenize = async (name, text) =>
    tokenize((await tokenizerAt(`${root.dataset.base}${name}.tokenizer.json`)).tokenizer, text);
  update();
}

window.llmdocsPlayground = { mount };
