"""The success envelope: ``{"success": true, "data": ..., "message": "..."}``."""

from __future__ import annotations

import math
from typing import Any


def success(data: Any = None, message: str = "OK") -> dict[str, Any]:
    """Wrap ``data`` in the success envelope."""
    return {"success": True, "data": data, "message": message}


def page(items: list[Any], *, total: int, page: int, limit: int, total_exact: bool = True) -> dict[str, Any]:
    """Return list data: the items and their pagination (``total_pages`` is 0 for an empty list).

    ``total_exact`` is false when ``total`` is a lower bound (a search that stopped counting).
    """
    return {
        "items": items,
        "pagination": {
            "page": page,
            "limit": limit,
            "total": total,
            "total_pages": math.ceil(total / limit) if limit > 0 else 0,
            "total_exact": total_exact,
        },
    }


def whole_list(items: list[Any]) -> dict[str, Any]:
    """Return list data for a list that a service answers whole (one page holding everything)."""
    return page(items, total=len(items), page=1, limit=max(len(items), 1))
