// Small repairs of the theme's markup for screen readers (checked by axe-core in make test).
document.addEventListener("DOMContentLoaded", () => {
  // Icons inside a button that has its own label are decoration: their tooltips ("Light",
  // "Dark") would otherwise be read as the button's text, which differs from its label.
  for (const icon of document.querySelectorAll("button[aria-label] i, button[aria-label] svg")) {
    icon.setAttribute("aria-hidden", "true");
    icon.removeAttribute("title");
  }
  // docutils marks the bibliography as a list, but its entries are not list items.
  for (const list of document.querySelectorAll(".citation-list[role='list']")) {
    list.removeAttribute("role");
  }
});
