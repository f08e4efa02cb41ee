/* Handbook search, on top of Sphinx's searchtools.js (search page only; see search.py).
 *
 * Loaded with `defer`: it runs after searchtools.js and before the query, which
 * searchtools.js starts on DOMContentLoaded. QMS_SEARCH_DOCUMENTS (docname -> [id,
 * status, CSS slug]) is written into the page by the build from its verified states.
 *
 * 1. A query that is exactly a document id (any case) lists that document first. This
 *    is a step after Sphinx's own search rather than a Scorer (html_search_scorer):
 *    Scorer.score rescores one result at a time without seeing the query, and cannot
 *    add a document the index did not match (the control block, where the id stands,
 *    is kept out of the index).
 * 2. Every result of a document names its id and status, as its page and the register do.
 * 3. Snippets leave out what the index leaves out: elements of class no-search
 *    (the control block, the banners, the print footer).
 */
(() => {
  "use strict";
  if (typeof Search === "undefined" || typeof QMS_SEARCH_DOCUMENTS === "undefined") return;
  const labels = QMS_SEARCH_DOCUMENTS;
  const byId = new Map(Object.entries(labels).map(([docname, [id]]) => [id, docname]));

  const performSearch = Search._performSearch;
  Search._performSearch = (query, ...terms) => {
    const results = performSearch(query, ...terms);
    const docname = byId.get(query.trim().toUpperCase());
    const index = Search._index;
    const file = docname === undefined ? -1 : index.docnames.indexOf(docname);
    if (file < 0) return results;
    // Results are [docname, title, anchor, description, score, filename, kind];
    // searchtools.js shows the last one first.
    const others = results.filter(([name, , anchor]) => name !== docname || anchor !== "");
    const top = Math.max(0, ...results.map((result) => result[4])) + 1;
    others.push([docname, index.titles[file], "", null, top, index.filenames[file],
                 SearchResultKind.title]);
    return others;
  };

  const htmlToText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(".no-search").forEach((element) => element.remove());
    return htmlToText(page.documentElement.outerHTML, anchor);
  };

  const suffix = DOCUMENTATION_OPTIONS.LINK_SUFFIX;
  const label = (item) => {
    const link = item.querySelector(":scope > a");
    if (link === null || item.querySelector(".qms-search-label") !== null) return;
    let docname = (link.getAttribute("href") || "").split("#")[0];
    if (suffix && docname.endsWith(suffix)) docname = docname.slice(0, -suffix.length);
    const entry = labels[docname];
    if (entry === undefined) return;
    const [id, status, slug] = entry;
    const meta = document.createElement("span");
    meta.className = "qms-search-label";
    const code = meta.appendChild(document.createElement("code"));
    code.textContent = id;
    meta.append(" · ");
    const badge = meta.appendChild(document.createElement("span"));
    badge.className = `qms-badge-${slug}`;
    badge.textContent = status;
    link.after(" ", meta);
  };
  const output = document.getElementById("search-results");
  if (output === null) return;
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node instanceof HTMLLIElement) label(node);
      }
    }
  }).observe(output, { childList: true, subtree: true });
})();
