extensions = ["qms_sphinx"]
qms_settings = {"site_pages": ["index", "frameworks/*"]}
