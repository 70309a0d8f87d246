"""The back ends of the notebooks (one module per notebook, named after it without its number).

- :mod:`~coinfer.studies.multi_user`: notebook ``09_multi_user`` (model.md section 13.9).
"""

from __future__ import annotations

__all__: list[str] = []
