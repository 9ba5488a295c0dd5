// Building the page's elements. Text from the server (class names, model and dataset
// names, error details) only ever goes in as text, never as HTML: `el` sets
// textContent and attributes, so no string it is given can become markup.

/**
 * el("td", {class: "num", title: "0.123", text: "0.12"}, ...children): a new element.
 * attrs: `text` is its textContent; null, undefined and false leave an attribute out and
 * true sets it empty. children: nodes or strings (strings become text nodes); null and
 * undefined are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}
