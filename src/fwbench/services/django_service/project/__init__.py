"""The Django project: settings, URLs, entry points and what every app shares."""
