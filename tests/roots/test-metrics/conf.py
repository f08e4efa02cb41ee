extensions = ["qms_sphinx"]
qms_settings = {"site_pages": ["index", "frameworks/*", "objectives"], "risk_acceptance_threshold": 8}
