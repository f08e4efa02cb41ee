extensions = ["qms_sphinx"]
qms_settings = {"site_pages": ["index", "frameworks/*", "matrix"], "risk_acceptance_threshold": 8}
