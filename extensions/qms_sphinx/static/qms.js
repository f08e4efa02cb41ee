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
