"""User-facing errors of the ML step. Each message names the table, column, file or version that failed."""

from __future__ import annotations

from schemahub.cli import SchemaHubError


class MLError(SchemaHubError):
    """Base class of every error `schemahub train` / `schemahub predict` reports to the user."""


class GoldNotFoundError(MLError):
    """The gold tables (features_2s, labels_10s) are missing under the lake root."""


class GoldDataError(MLError):
    """Gold exists but cannot be used as asked: missing column, all-NaN feature, no rows for the symbol."""


class TooFewRowsError(MLError):
    """Not enough rows (or not enough time) for an honest walk-forward evaluation."""


class ModelNotFoundError(MLError):
    """An unknown model name or version in the registry."""
