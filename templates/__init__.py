"""derive's jinja2 templates (documents, verdicts, generated code), installed as the package data ``derive.templates``.

The folder stays at the top of the repository; ``pyproject.toml`` maps it into the package, so a wheel
carries it and :mod:`derive.templating` finds it through :mod:`importlib.resources`, installed or editable.
"""
