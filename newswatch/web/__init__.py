"""The analysts' read-only web page: FastAPI routes, server-rendered Jinja2 templates, JSON twins."""
