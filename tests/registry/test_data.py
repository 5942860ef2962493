"""Reading reference data: CSV and Parquet through pyarrow, fingerprints, schemas."""

from __future__ import annotations

import hashlib
import io

import pandas as pd
import pytest

from steward.errors import InvalidInput
from steward.registry.data import fingerprint, read_table, schema_of


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"age": [25, 32, 47], "income": [1.5, None, 3.0],
                         "segment": ["a", "b", None]})


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow", index=False)
    return buf.getvalue()


def test_reads_csv_with_types_and_missing_values() -> None:
    df = read_table(b"age,income,segment\n25,1.5,a\n32,,b\n47,3.0,\n", "ref.CSV")
    assert df["age"].tolist() == [25, 32, 47]
    assert str(df["age"].dtype) == "int64"
    assert df["income"].isna().tolist() == [False, True, False]
    assert df["segment"].isna().tolist() == [False, False, True]  # empty string is missing


def test_reads_parquet(frame: pd.DataFrame) -> None:
    df = read_table(_parquet(frame), "ref.parquet")
    pd.testing.assert_frame_equal(df, frame)


@pytest.mark.parametrize(("data", "filename", "needle"), [
    (b"", "ref.csv", "empty"),
    (b"a,b\n", "ref.csv", "no rows"),
    (b"a,b\n1,2\n3\n", "ref.csv", "cannot read CSV"),
    (b"a,b\n1,2\n", "ref.parquet", "not a Parquet file"),
    (b"PAR1garbagePAR1", "ref.parquet", "cannot read Parquet"),
    (b"a,b\n1,2\n", "ref.xlsx", "unsupported file type"),
])
def test_unreadable_data_names_reference_data(data: bytes, filename: str, needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_table(data, filename)
    assert info.value.errors[0].field == "reference_data"
    assert needle in info.value.message


def test_parquet_bytes_named_csv_are_rejected(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="looks like Parquet"):
        read_table(_parquet(frame), "ref.csv")


def test_fingerprint_is_sha256_of_bytes() -> None:
    assert fingerprint(b"abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()


def test_schema_of(frame: pd.DataFrame) -> None:
    assert schema_of(frame) == [{"name": "age", "dtype": "int64"},
                                {"name": "income", "dtype": "float64"},
                                {"name": "segment", "dtype": "object"}]
