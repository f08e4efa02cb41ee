"""The history of computed KPIs at scale: a dashboard on the synthetic handbook and one
commit a day after it, so that months and quarters end along the branch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import git

from qms.benchmark.generate import Synthetic

# Two computed KPIs, one per frequency, and the dashboard, on the home page (a site page).
DASHBOARD = """
## Monitoring

```{metric} Applicable controls implemented
:id: KPI-CTL-01
:definition: Applicable controls whose implementation is complete
:unit: %
:direction: higher
:target: 90
:frequency: quarterly
:owner: ISMS Manager
:source: controls-implemented
```

```{metric} Risks above the acceptance threshold
:id: KPI-RSK-01
:definition: Risks whose target residual score is above the acceptance threshold
:unit: count
:direction: lower
:target: 0
:frequency: monthly
:owner: ISMS Manager
:source: risks-above-threshold-residual
```

```{qms-dashboard}
```
"""


def add_history(synthetic: Synthetic, commits: int) -> int:
    """Put the dashboard on the home page, then make `commits` commits, one a day from
    tomorrow (the generated ones are dated now), each adding a line to a log outside the
    documents. Return how many commits the branch then has."""
    root = synthetic.root
    index = root / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + DASHBOARD, encoding="utf-8")
    repo = git.Repo(root)
    repo.git.add(A=True)
    repo.index.commit("Dashboard")
    start = datetime.now(tz=UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    log = root / "changes.log"
    for day in range(1, commits + 1):
        when = start + timedelta(days=day)
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{when.date().isoformat()}: change {day}\n")
        repo.index.add([str(log)])
        stamp = f"{int(when.timestamp())} +0000"
        repo.index.commit(f"Change {day}", author_date=stamp, commit_date=stamp)
    return int(repo.git.rev_list("--count", "HEAD"))
