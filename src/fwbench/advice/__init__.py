"""``fwbench advise``: the article's decision framework applied to a user's situation and
to measured numbers.

Public API:

* :class:`Profile`, :func:`load_profile`, :func:`profile_from_mapping`,
  :class:`ProfileError`: the user's answers; :data:`QUESTIONS`: how they are asked.
* :func:`find_source`: which measurements to use (results file, reference, none).
* :func:`advise`: the ranked :class:`Advice`.
* :func:`render_text`, :func:`renderable`, :func:`to_json`: its output.
"""

from __future__ import annotations

from fwbench.advice.engine import Advice, advise
from fwbench.advice.profile import Profile, ProfileError, load_profile, profile_from_mapping
from fwbench.advice.questions import QUESTIONS, Question
from fwbench.advice.render import render_text, renderable, to_json
from fwbench.advice.sources import Source, find_source

__all__ = [
    "QUESTIONS",
    "Advice",
    "Profile",
    "ProfileError",
    "Question",
    "Source",
    "advise",
    "find_source",
    "load_profile",
    "profile_from_mapping",
    "render_text",
    "renderable",
    "to_json",
]
