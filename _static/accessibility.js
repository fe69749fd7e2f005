// Small repairs of the theme's markup for screen readers (checked by axe-core in make test).

// Icons inside a button that has its own label are decoration: their tooltips ("Light",
// "Dark") would otherwise be read as the button's text, which differs from its label.
// Font Awesome replaces each <i> by an <svg> some time after the page loads, so the repair
// is applied again whenever a labelled button's children change.
function hideIcons(button) {
  for (const icon of button.querySelectorAll("i, svg")) {
    if (icon.getAttribute("aria-hidden") !== "true") icon.setAttribute("aria-hidden", "true");
    if (icon.hasAttribute("title")) icon.removeAttribute("title");
    for (const title of icon.querySelectorAll("title")) title.remove();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[aria-label]")) {
    hideIcons(button);
    new MutationObserver(() => hideIcons(button)).observe(button, { childList: true, subtree: true });
  }
  // docutils marks the bibliography as a list, but its entries are not list items.
  for (const list of document.querySelectorAll(".citation-list[role='list']")) {
    list.removeAttribute("role");
  }
});
