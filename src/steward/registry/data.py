"""Reading reference data (CSV or Parquet) into pandas, with a content fingerprint and schema."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from steward.errors import InvalidInput

_FIELD = "reference_data"
_PARQUET_MAGIC = b"PAR1"


def read_table(data: bytes, filename: str) -> pd.DataFrame:
    """Parse CSV or Parquet bytes (chosen by extension) into a non-empty DataFrame."""
    if not data:
        raise InvalidInput(f"{filename or 'reference data'} is empty", field=_FIELD)
    name = filename.lower()
    if name.endswith((".parquet", ".pq")):
        if not (data[:4] == _PARQUET_MAGIC and data[-4:] == _PARQUET_MAGIC):
            raise InvalidInput(f"{filename} is not a Parquet file (no PAR1 magic)", field=_FIELD)
        try:
            table = pq.read_table(io.BytesIO(data))
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read Parquet file {filename}: {exc}", field=_FIELD) from exc
    elif name.endswith(".csv"):
        if data[:4] == _PARQUET_MAGIC:
            raise InvalidInput(f"{filename} looks like Parquet, not CSV", field=_FIELD)
        try:
            # Empty strings and the usual NA spellings count as missing in string columns too.
            options = pa_csv.ConvertOptions(strings_can_be_null=True)
            table = pa_csv.read_csv(io.BytesIO(data), convert_options=options)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read CSV file {filename}: {exc}", field=_FIELD) from exc
    else:
        raise InvalidInput(
            f"unsupported file type for {filename!r}: expected .csv or .parquet", field=_FIELD
        )
    if table.num_columns == 0 or table.num_rows == 0:
        raise InvalidInput(f"{filename} has no rows or no columns", field=_FIELD)
    return table.to_pandas()


def fingerprint(data: bytes) -> str:
    """Content fingerprint of raw bytes as ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def schema_of(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Column names and pandas dtype strings, in column order."""
    return [{"name": str(col), "dtype": str(dtype)} for col, dtype in df.dtypes.items()]
