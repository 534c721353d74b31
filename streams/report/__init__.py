"""The DA office's summary report (HTML and PDF, with charts), one template for ``clearance classify --report`` and
``clearance report --html``: :mod:`~streams.report.model` (what the page says, from :mod:`streams.summary`'s figures),
:mod:`~streams.report.charts` (static SVG charts, matplotlib), :mod:`~streams.report.html` (the Jinja2 template) and
:mod:`~streams.report.pdf` (the page printed by headless Chromium)."""
