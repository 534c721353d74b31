"""Shared pytest set-up: an index of fixture modules, so this file stays small as packages add their own.

Each ``fixtures_<area>.py`` next to this file is a plain pytest plugin (fixtures and hooks); list it here.
"""

pytest_plugins = ["fixtures_kafka", "fixtures_worker"]
