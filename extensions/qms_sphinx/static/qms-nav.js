/* Fill the sidebar's list of sibling documents from _static/qms-nav-<type>.js.
 *
 * The page itself links only the previous and next document of its type and the type's
 * index, so that each page stays the same size however many documents there are; the
 * full list is one script per type. Without JavaScript those links remain.
 */
document.addEventListener("DOMContentLoaded", () => {
  for (const list of document.querySelectorAll("ul.qms-siblings")) {
    const data = (window.qmsNav || {})[list.dataset.qmsType];
    if (!data) continue;
    let current = null;
    const items = data.pages.map(([uri, id, title]) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.className = "reference internal";
      link.textContent = `${id} ${title}`;
      if (uri === list.dataset.qmsCurrent) {
        item.className = "toctree-l2 current current-page";
        link.classList.add("current");
        link.href = "#";
        current = item;
      } else {
        item.className = "toctree-l2";
        link.href = list.dataset.qmsRoot + uri;
      }
      item.appendChild(link);
      return item;
    });
    const all = list.lastElementChild;
    if (all && all.querySelector("a")) {
      all.querySelector("a").textContent = `All ${data.pages.length} ${data.label.toLowerCase()}`;
      items.push(all);
    }
    list.replaceChildren(...items);
    // Long lists: bring the current document into view inside the sidebar only.
    const box = list.closest(".sidebar-scroll");
    if (box && current) {
      const offset = current.getBoundingClientRect().top - box.getBoundingClientRect().top;
      // "instant": the theme scrolls smoothly, which would animate on every page load.
      box.scrollTo({ top: box.scrollTop + offset - box.clientHeight / 3, behavior: "instant" });
    }
  }
});
