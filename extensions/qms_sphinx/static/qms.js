/* Click a column header of a .qms-sortable table to sort by it; click again to reverse. */
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.qms-sortable")) {
    const body = table.tBodies[0];
    if (!body || !table.tHead) continue;
    table.tHead.querySelectorAll("th").forEach((header, column) => {
      header.style.cursor = "pointer";
      header.title = "Sort by this column";
      header.addEventListener("click", () => {
        const descending = header.dataset.sorted === "asc";
        for (const other of table.tHead.querySelectorAll("th")) delete other.dataset.sorted;
        header.dataset.sorted = descending ? "desc" : "asc";
        const key = (row) => row.cells[column].textContent.trim();
        const rows = Array.from(body.rows);
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          const order = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
          return descending ? -order : order;
        });
        for (const row of rows) body.appendChild(row);
      });
    });
  }
});

/* The register's filter: show only the rows whose type, status and owner match.
   Plain script on the page itself, so it works from file:// as well. */
document.addEventListener("DOMContentLoaded", () => {
  for (const view of document.querySelectorAll(".qms-register-view")) {
    const form = view.querySelector("form.qms-filter");
    if (!form) continue;
    const tables = Array.from(view.querySelectorAll("table.qms-register"));
    const rows = tables.flatMap((table) => Array.from(table.querySelectorAll("tbody tr[data-status]")));
    const count = form.querySelector(".qms-filter-count");
    const apply = () => {
      const wanted = Array.from(form.querySelectorAll("select"))
        .filter((select) => select.value)
        .map((select) => [select.name, select.value]);
      let shown = 0;
      for (const row of rows) {
        row.hidden = !wanted.every(([name, value]) => row.dataset[name] === value);
        if (!row.hidden) shown += 1;
      }
      for (const table of tables) {
        // A table left without rows says so instead of showing a bare header.
        const empty = !table.querySelector("tbody tr[data-status]:not([hidden])");
        let note = table.parentElement.nextElementSibling;
        if (!note || !note.classList.contains("qms-filter-none")) {
          note = document.createElement("p");
          note.className = "qms-filter-none";
          note.textContent = "No document here matches the filter.";
          table.parentElement.after(note);
        }
        table.parentElement.hidden = empty;
        note.hidden = !empty;
      }
      count.textContent = wanted.length
        ? `${shown} of ${rows.length} entries shown`
        : `${rows.length} entries`;
    };
    form.addEventListener("change", apply);
    form.addEventListener("submit", (event) => event.preventDefault());
    form.hidden = false;
    apply();
  }
});

/* Printed heat maps list the ids of every cell, and printed charts their data (browsers
   without ::details-content). */
window.addEventListener("beforeprint", () => {
  const closed = "table.qms-heatmap details:not([open]), details.qms-chart-data:not([open])";
  for (const details of document.querySelectorAll(closed)) {
    details.open = true;
    details.dataset.qmsPrintOpened = "";
  }
});
window.addEventListener("afterprint", () => {
  for (const details of document.querySelectorAll("details[data-qms-print-opened]")) {
    details.open = false;
    delete details.dataset.qmsPrintOpened;
  }
});
