extensions = ["qms_sphinx"]
html_theme = "furo"
qms_settings = {"organisation": "Test Pharma"}
