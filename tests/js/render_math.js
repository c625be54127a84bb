// Render math fragments with KaTeX (strict, throwOnError) and MathJax 3 (mathjax-full).
// stdin: JSON list of {"tex": "...", "display": true|false}; stdout: JSON list of
// {"index": i, "engine": "katex"|"mathjax", "error": "..."} for every failure.
const katex = require("katex");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
// the packages JupyterLab and GitHub load by default (no \bm, no physics)
const packages = AllPackages.filter((p) => !["bm", "physics", "autoload", "require", "noundefined", "noerrors"].includes(p));
const tex = new TeX({
  packages,
  formatError: (jax, err) => { throw err; },
});
const doc = mathjax.document("", { InputJax: tex, OutputJax: new SVG({ fontCache: "none" }) });

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const fragments = JSON.parse(input);
  const failures = [];
  fragments.forEach((f, index) => {
    try {
      katex.renderToString(f.tex, { displayMode: f.display, throwOnError: true, strict: "error" });
    } catch (e) {
      failures.push({ index, engine: "katex", error: String(e.message || e) });
    }
    try {
      const node = doc.convert(f.tex, { display: f.display });
      const html = adaptor.outerHTML(node);
      if (html.includes("data-mjx-error") || html.includes("merror")) {
        failures.push({ index, engine: "mathjax", error: html.slice(0, 300) });
      }
    } catch (e) {
      failures.push({ index, engine: "mathjax", error: String(e.message || e) });
    }
  });
  process.stdout.write(JSON.stringify(failures));
});
