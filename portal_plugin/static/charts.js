// Renders every chart on the page from its JSON data block (no inline script: strict CSP).
// `ast: true` makes Vega use its expression interpreter instead of `new Function`, so the
// page needs no 'unsafe-eval'; the canvas renderer needs no inline styles.
const options = {
  renderer: "canvas",
  actions: false,
  ast: true,
  defaultStyle: false,
  tooltip: { disableDefaultStyle: true },
};

for (const view of document.querySelectorAll("[data-chart]")) {
  const block = document.getElementById("chart-spec-" + view.dataset.chart);
  if (!block) continue;
  const spec = JSON.parse(block.textContent);
  window.vegaEmbed(view, spec, options).catch((error) => {
    view.textContent = "グラフを表示できませんでした: " + error.message;
  });
}
